"""The wheel is complete: built, installed into a fresh venv, it migrates and runs ``failcat``.

Builds the wheel from a copy of the source tree (so a build never writes into the checkout that
other test runs are reading), installs it into a new virtual environment (pip's cache and
configured wheel sources make that fast after the first run) — first alone, as an agent installs
it, then with the ``receiver`` extra — and runs the installed code from a directory outside the
checkout, so nothing can come from the source tree by accident.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
#: Source directories and the package name each is installed as (pyproject's package-dir).
SOURCE_ROOTS = {
    "otel_failcat": "otel_failcat",
    "collector_receiver": "collector_receiver",
    "migrations": "collector_receiver.migrations",
}
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "*.db",
    "*.db-*",
)


#: What only the receiver needs: none of it may come with the agent-side install (CONTRACT §1).
RECEIVER_ONLY_MODULES = (
    "sqlalchemy",
    "psycopg",
    "alembic",
    "grpc",
    "re2",
    "yaml",
    "aiohttp",
    "jinja2",
)

#: Run in the agent-only venv: which receiver modules are importable, and what the
#: OpenTelemetry entry point loads.
_AGENT_PROBE = """
import importlib.util, json, sys
from importlib.metadata import entry_points
(point,) = entry_points(group="opentelemetry_instrumentor", name="failcat")
loaded = point.load()
present = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is not None]
name = f"{loaded.__module__}.{loaded.__qualname__}"
print(json.dumps({"instrumentor": name, "present": present}))
"""


@dataclass(frozen=True)
class AgentOnly:
    """What the venv showed before the receiver extra was installed."""

    probe: subprocess.CompletedProcess[str]
    failcat: subprocess.CompletedProcess[str]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    elsewhere: Path  # a working directory outside the checkout
    agent_only: AgentOnly

    def failcat(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run_in(self.elsewhere, str(self.venv / "bin" / "failcat"), *args)


def _run(*argv: str, cwd: Path | None = None) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    dist = tmp / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source))
    (wheel,) = dist.glob("otel_failcat-*.whl")
    venv = tmp / "venv"
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    python = str(venv / "bin" / "python")
    _run(sys.executable, "-m", "venv", str(venv))
    # The agent side alone first (checked before the extra arrives in the same venv, which
    # costs one venv and one download of the OpenTelemetry packages, not two).
    _run(python, "-m", "pip", "install", "-q", str(wheel))
    agent_only = AgentOnly(
        probe=_run_in(elsewhere, python, "-c", _AGENT_PROBE, *RECEIVER_ONLY_MODULES),
        failcat=_run_in(elsewhere, str(venv / "bin" / "failcat"), "catalog", "validate"),
    )
    _run(python, "-m", "pip", "install", "-q", f"{wheel}[receiver]")
    yield Installed(wheel=wheel, venv=venv, elsewhere=elsewhere, agent_only=agent_only)


def _run_in(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _source_packages() -> set[str]:
    packages = set()
    for directory, name in SOURCE_ROOTS.items():
        for init in (ROOT / directory).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / directory).parts
            packages.add(".".join((name, *relative)))
    return packages


def _wheel_packages(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return {
        ".".join(Path(name).parent.parts)
        for name in names
        if name.endswith("/__init__.py") and ".dist-info" not in name
    }


def test_pyproject_lists_every_package_of_the_source_tree() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]

    assert set(declared["packages"]) == _source_packages()


def test_every_package_of_the_source_tree_is_in_the_wheel(installed: Installed) -> None:
    assert _source_packages() <= _wheel_packages(installed.wheel)


def test_the_wheel_carries_migrations_and_data_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())

    expected = {
        "collector_receiver/migrations/env.py",
        "collector_receiver/migrations/script.py.mako",
        "collector_receiver/py.typed",
    }
    expected |= {
        f"collector_receiver/migrations/versions/{path.name}"
        for path in (ROOT / "migrations" / "versions").glob("[0-9]*.py")
    }
    expected |= {
        f"collector_receiver/{path.relative_to(ROOT / 'collector_receiver')}"
        for path in (ROOT / "collector_receiver").rglob("*.yaml")
    }
    # The web UI's templates and static files, served from the installed package.
    expected |= {
        f"collector_receiver/{path.relative_to(ROOT / 'collector_receiver')}"
        for pattern in ("templates/*.html", "static/*")
        for path in (ROOT / "collector_receiver" / "ui").glob(pattern)
    }
    assert expected <= names
    assert not any(name.startswith(("tests/", "migrations/")) for name in names)


def test_the_agent_side_installs_without_the_receiver(installed: Installed) -> None:
    probe = installed.agent_only.probe

    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["instrumentor"] == "otel_failcat._instrumentor.FailcatInstrumentor"
    assert found["present"] == []


def test_failcat_without_the_receiver_says_what_to_install(installed: Installed) -> None:
    result = installed.agent_only.failcat

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'otel-failcat[receiver]'" in result.stderr
    assert "Traceback" not in result.stderr


def _revision_in(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        ((revision,),) = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(revision)


def _newest_revision() -> str:
    """The newest revision of the source tree (revision ids are the numbered file prefixes)."""
    return max(path.name.split("_")[0] for path in (ROOT / "migrations" / "versions").glob("0*.py"))


def test_installed_failcat_migrates_a_database(installed: Installed, tmp_path: Path) -> None:
    database = tmp_path / "x.db"

    result = installed.failcat("db", "upgrade", "--db", f"sqlite:///{database}")
    current = installed.failcat("db", "current", "--db", f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"database schema at revision {_newest_revision()}\n"
    assert current.stdout == f"{_newest_revision()} (head)\n"
    assert _revision_in(database) == _newest_revision()
    with sqlite3.connect(database) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert {"failure_matches", "failure_patterns", "failure_aggregates"} <= tables


def test_installed_failcat_migrates_postgresql(installed: Installed, postgres_url: str) -> None:
    result = installed.failcat("db", "upgrade", "--db", postgres_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"database schema at revision {_newest_revision()}\n"


def test_installed_failcat_validates_and_lists_the_default_catalog(installed: Installed) -> None:
    validate = installed.failcat("catalog", "validate")
    listing = installed.failcat("catalog", "list")
    as_json = installed.failcat("catalog", "list", "--json")

    assert validate.returncode == 0, validate.stderr
    assert listing.returncode == 0, listing.stderr
    # The catalog file inside the installed package, not the checkout's.
    assert validate.stdout.startswith(f"ok: {installed.venv}")
    assert "collector_receiver/catalog/default.yaml" in validate.stdout
    entries = json.loads(as_json.stdout)
    assert f": {len(entries)} entries" in validate.stdout
    assert len(entries) >= 80
    assert len(listing.stdout.splitlines()) == len(entries) + 1  # header + one line each


def test_installed_failcat_refuses_a_broken_catalog_in_one_line(
    installed: Installed, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 2\ncatalog_version: '1'\nentries:\n  - code: lower\n")

    result = installed.failcat("catalog", "validate", str(broken))

    assert result.returncode == 1
    assert result.stderr.startswith(f"failcat catalog: {broken}: entry #1: code 'lower'")
    assert result.stderr.count("\n") == 1


def test_the_installed_code_is_not_the_checkout(installed: Installed) -> None:
    result = subprocess.run(
        [
            str(installed.venv / "bin" / "python"),
            "-c",
            "import collector_receiver.migrations as m; print(m.__file__)",
        ],
        cwd=installed.elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert str(installed.venv) in result.stdout
