"""The names other areas import from ``collector_receiver.store`` stay put, and importing the
package builds nothing (no engine, no connection)."""

from __future__ import annotations

import subprocess
import sys

import collector_receiver.store as store_package


def test_all_is_pinned() -> None:
    assert sorted(store_package.__all__) == sorted(
        [
            "DATABASE_URL_ENV",
            "DEFAULT_DATABASE_URL",
            "FailureStore",
            "NewPattern",
            "SchemaMissing",
            "StoreConfigError",
            "StoreError",
            "StoreUnavailable",
            "WriteResult",
            "current_revision",
            "display_url",
            "downgrade",
            "head_revision",
            "upgrade",
            "upgrade_engine",
        ]
    )
    for name in store_package.__all__:
        assert getattr(store_package, name) is not None


def test_the_error_hierarchy() -> None:
    assert issubclass(store_package.StoreUnavailable, store_package.StoreError)
    assert issubclass(store_package.StoreConfigError, store_package.StoreError)
    assert store_package.DEFAULT_DATABASE_URL == "sqlite:///failcat.db"
    assert store_package.DATABASE_URL_ENV == "FAILCAT_DATABASE_URL"


def test_importing_every_store_module_creates_no_engine() -> None:
    # In a fresh interpreter, count the engines created while every store module is imported.
    probe = """
import sqlalchemy, sqlalchemy.engine, sqlalchemy.engine.create as create
made = []
original = create.create_engine
def counting(*args, **kwargs):
    made.append(args)
    return original(*args, **kwargs)
create.create_engine = sqlalchemy.create_engine = sqlalchemy.engine.create_engine = counting
from collector_receiver.store.migrate import schema_metadata
schema_metadata()  # imports every module of the package
print(len(made))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "0"
