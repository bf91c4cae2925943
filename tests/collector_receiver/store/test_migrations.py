"""The Alembic migrations create exactly ``tables.metadata``, and undo it, on both databases."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import collector_receiver.store
from collector_receiver.store import (
    StoreError,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from collector_receiver.store.migrate import script_location
from collector_receiver.store.tables import metadata

_OWN_TABLES = {"failure_matches", "failure_patterns"}


def _all_tables_registered() -> sa.MetaData:
    """``tables.metadata`` with every table any store module adds to it (e.g. aggregates)."""
    for module in pkgutil.iter_modules(collector_receiver.store.__path__):
        importlib.import_module(f"collector_receiver.store.{module.name}")
    return metadata


def _table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_scripts_are_found_inside_the_package() -> None:
    location = Path(script_location())

    assert (location / "env.py").is_file()
    assert (location / "versions" / "0001_failure_matches_and_patterns.py").is_file()


def test_a_new_database_has_no_revision(db_url: str) -> None:
    assert current_revision(db_url) is None


def test_upgrade_creates_the_tables_and_records_the_head(db_url: str) -> None:
    upgrade(db_url)

    assert current_revision(db_url) == head_revision()
    assert _table_names(db_url) >= _OWN_TABLES


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)

    assert current_revision(db_url) == head_revision()


def test_migrated_schema_equals_the_table_definitions(db_url: str) -> None:
    upgrade(db_url)
    target = _all_tables_registered()
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, target)
    finally:
        engine.dispose()

    assert diffs == []


def test_revision_0001_alone_creates_the_failure_tables(db_url: str) -> None:
    upgrade(db_url, "0001")

    assert current_revision(db_url) == "0001"
    assert _table_names(db_url) >= _OWN_TABLES


def test_downgrade_to_base_removes_everything(db_url: str) -> None:
    upgrade(db_url)

    downgrade(db_url, "base")

    assert current_revision(db_url) is None
    assert _table_names(db_url) & _OWN_TABLES == set()


def test_downgrade_then_upgrade_again(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")

    upgrade(db_url)

    assert _table_names(db_url) >= _OWN_TABLES


def test_an_unknown_revision_is_a_one_line_store_error(db_url: str) -> None:
    with pytest.raises(StoreError) as raised:
        upgrade(db_url, "9999")

    assert "9999" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_receivers_starting_together_all_migrate(db_url: str) -> None:
    # Unserialised, racing CREATE TABLEs fail, or deadlock on PostgreSQL against the import lock
    # of the migration scripts that alembic loads in every thread.
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def migrate() -> None:
        try:
            start.wait()
            upgrade(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert current_revision(db_url) == head_revision()


def test_the_indexes_the_queries_rely_on_exist(db_url: str) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        matches = {tuple(ix["column_names"]) for ix in inspector.get_indexes("failure_matches")}
        patterns = {tuple(ix["column_names"]) for ix in inspector.get_indexes("failure_patterns")}
        unique = {
            table: {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)}
            for table in _OWN_TABLES
        }
    finally:
        engine.dispose()

    assert {
        ("trace_id",),
        ("occurred_at", "id"),
        ("code", "occurred_at"),
        ("service_name", "occurred_at"),
        ("category", "occurred_at"),
    } <= matches
    assert {("last_seen",), ("service_name", "code")} <= patterns
    assert unique == {"failure_matches": {("event_key",)}, "failure_patterns": {("fingerprint",)}}
