"""The wheel is complete: built, installed into a fresh venv, it migrates and runs ``failcat``.

Builds the wheel from a copy of the source tree (so a build never writes into the checkout that
other test runs are reading), installs it with the ``receiver`` extra into a new virtual
environment (pip's cache and configured wheel sources make that fast after the first run), and
runs the installed ``failcat`` from a directory outside the checkout, so nothing can come from
the source tree by accident.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    elsewhere: Path  # a working directory outside the checkout

    def failcat(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "failcat"), *args],
            cwd=self.elsewhere,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


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
    _run(sys.executable, "-m", "venv", str(venv))
    _run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[receiver]")
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    yield Installed(wheel=wheel, venv=venv, elsewhere=elsewhere)


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
    assert expected <= names
    assert not any(name.startswith(("tests/", "migrations/")) for name in names)


def test_installed_failcat_migrates_a_database(installed: Installed, tmp_path: Path) -> None:
    database = tmp_path / "x.db"

    result = installed.failcat("db", "upgrade", "--db", f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout
    with sqlite3.connect(database) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert {"failure_matches", "failure_patterns", "alembic_version"} <= tables


def test_installed_failcat_validates_and_lists_the_default_catalog(installed: Installed) -> None:
    validate = installed.failcat("catalog", "validate")
    listing = installed.failcat("catalog", "list")

    assert validate.returncode == 0, validate.stderr
    assert listing.returncode == 0, listing.stderr
    # The packaged default catalog, not an empty one: a header and many entries.
    assert len(listing.stdout.splitlines()) > 10


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
