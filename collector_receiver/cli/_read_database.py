"""The database a reading command (``failures``, ``aggregate``) opens, and a guard for typos.

``--db``, else ``FAILCAT_DATABASE_URL``, else ``sqlite:///failcat.db``. A reading command run in
the wrong directory must not leave an empty ``failcat.db`` behind and then complain about
missing tables, so an SQLite file that does not exist is reported as such.
"""

from __future__ import annotations

import os
from pathlib import Path


def read_database_url(flag_value: str | None) -> str:
    """The URL to read from; raises CommandError when it names a missing SQLite file."""
    from collector_receiver.cli import CommandError
    from collector_receiver.store import DATABASE_URL_ENV, DEFAULT_DATABASE_URL

    url = (flag_value or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL).strip()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :].split("?", 1)[0]
        if path and path != ":memory:" and not Path(path).exists():
            raise CommandError(
                f"--db: no database file {path!r} (start failcat serve or run failcat db upgrade "
                "there first, or pass --db / FAILCAT_DATABASE_URL)"
            )
    return url
