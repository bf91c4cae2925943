"""Database URLs as they may be shown: in the log, on a terminal, in an error message.

SQLAlchemy renders a URL with its password as ``***`` (``render_as_string(hide_password=True)``);
a URL without a password is shown exactly as given. One case needs help first: a password with
an unescaped ``@`` (``user:p@ss@host``), which SQLAlchemy's parser ends at the first ``@`` and
would show the rest of it as part of the host. Such a URL is read the way a person reads it —
the last ``@`` of the authority ends the credentials — and its ``@`` characters escaped before
SQLAlchemy renders it. A URL SQLAlchemy cannot parse at all is shown from its last ``@`` on.
"""

from __future__ import annotations

import sqlalchemy.exc
from sqlalchemy.engine import make_url


def display_url(url: str) -> str:
    """``url`` with its password, if any, shown as ``***``."""
    scheme, separator, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    readable = url
    if separator and at and "@" in credentials:
        readable = f"{scheme}://{credentials.replace('@', '%40')}@{host}{slash}{path}"
    try:
        parsed = make_url(readable)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        _, at, after = url.rpartition("@")
        return f"{scheme}://***@{after}" if separator and at else url
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True)


__all__ = ["display_url"]
