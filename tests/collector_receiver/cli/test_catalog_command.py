"""``failcat catalog validate | list | match`` through the real dispatcher and console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from collector_receiver.cli import main
from tests.collector_receiver.catalog._helpers import catalog_text, entry

ENTRIES = (
    entry(
        "RATE_LIMITED",
        {"exception_types": ["openai.RateLimitError"]},
        category="rate_limit",
        severity="medium",
        priority=10,
        title="Provider rate limit",
    ),
    entry(
        "HTTP_429",
        {
            "message_patterns": ["(?i)too many requests"],
            "attributes": {"http.response.status_code": 429},
        },
        category="rate_limit",
        severity="low",
    ),
)


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog_text(*ENTRIES, catalog_version="cli-7"), encoding="utf-8")
    return path


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(catalog_text(entry("BAD", {"message_patterns": ["(x"]})), encoding="utf-8")
    return path


def test_validate_ok(catalog_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "validate", str(catalog_file)]) == 0
    assert capsys.readouterr().out == f"ok: {catalog_file}: 2 entries, catalog_version cli-7\n"


def test_validate_refuses_with_one_line_and_exit_1(
    broken_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "validate", str(broken_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"failcat catalog: {broken_file}: entry BAD (#1): match.message_patterns[0] '(x' "
        "is not a valid RE2 regex: missing ): (x (line 9)\n"
    )


def test_list_table(catalog_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list", "--catalog", str(catalog_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["CODE", "CATEGORY", "SEVERITY", "PRIORITY", "TITLE"]
    assert lines[1].split() == [
        "RATE_LIMITED",
        "rate_limit",
        "medium",
        "10",
        "Provider",
        "rate",
        "limit",
    ]
    assert lines[2].split()[:4] == ["HTTP_429", "rate_limit", "low", "0"]
    # columns line up
    assert (
        lines[0].index("CATEGORY") == lines[1].index("rate_limit") == lines[2].index("rate_limit")
    )


def test_list_json(catalog_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list", "--catalog", str(catalog_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [item["code"] for item in data] == ["RATE_LIMITED", "HTTP_429"]
    assert data[1]["match"] == {
        "message_patterns": ["(?i)too many requests"],
        "attributes": {"http.response.status_code": 429},
    }


def test_list_with_a_broken_catalog(broken_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list", "--catalog", str(broken_file)]) == 1
    assert "entry BAD (#1)" in capsys.readouterr().err


def test_match_prints_code_and_reasons(
    catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "catalog", "match", "--catalog", str(catalog_file),
            "--type", "tenacity.RetryError",
            "--cause", "openai._exceptions.RateLimitError",
        ]
    )  # fmt: skip
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "RATE_LIMITED (Provider rate limit)",
        "  category rate_limit, severity medium",
        "  RATE_LIMITED: exception_types 'openai.RateLimitError' matched cause "
        "'openai._exceptions.RateLimitError' (via alias)",
    ]


def test_match_attributes_from_the_command_line_compare_as_scalars(
    catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["catalog", "match", "--catalog", str(catalog_file), "--json"]
    argv += ["--message", "429 Too Many Requests", "--attr", "http.response.status_code=429"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["code"] == "HTTP_429"
    assert data["catalog_version"] == "cli-7"
    assert data["reasons"] == [
        "HTTP_429: message_patterns[0] '(?i)too many requests' matched",
        "HTTP_429: attributes 'http.response.status_code' = '429' matched the catalog's value",
    ]


def test_match_uncataloged(catalog_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "match", "--catalog", str(catalog_file), "--type", "x.Y"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "UNCATALOGED",
        "  category uncataloged, severity medium",
        "  no entry matched",
    ]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--attr", "novalue"], "failcat catalog: --attr 'novalue': expected KEY=VALUE\n"),
        (["--attr", "=x"], "failcat catalog: --attr '=x': expected KEY=VALUE\n"),
        ([], "failcat catalog: describe the failure: give at least one of --type"),
    ],
)
def test_match_bad_flags(
    catalog_file: Path, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "match", "--catalog", str(catalog_file), *argv]) == 2
    assert capsys.readouterr().err.startswith(expected)


def test_console_script_validates_and_refuses(catalog_file: Path, broken_file: Path) -> None:
    script = Path(sys.executable).with_name("failcat")
    ok = subprocess.run(
        [str(script), "catalog", "validate", str(catalog_file)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (ok.returncode, ok.stdout, ok.stderr) == (
        0, f"ok: {catalog_file}: 2 entries, catalog_version cli-7\n", "",
    )  # fmt: skip
    bad = subprocess.run(
        [str(script), "catalog", "validate", str(broken_file)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert len(bad.stderr.splitlines()) == 1
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith(f"failcat catalog: {broken_file}: entry BAD (#1): ")


def test_validate_without_a_path_checks_the_packaged_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector_receiver.catalog import default_catalog_path

    monkeypatch.delenv("FAILCAT_CATALOG", raising=False)
    assert main(["catalog", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {default_catalog_path()}: ")
    assert " entries, catalog_version " in out


def test_without_a_path_the_commands_use_the_services_catalog_variable(
    catalog_file: Path,
    broken_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # FAILCAT_CATALOG is what `failcat serve` loads: `catalog match` must judge with the same one.
    monkeypatch.setenv("FAILCAT_CATALOG", str(catalog_file))

    assert main(["catalog", "validate"]) == 0
    assert capsys.readouterr().out == f"ok: {catalog_file}: 2 entries, catalog_version cli-7\n"
    assert main(["catalog", "list", "--json"]) == 0
    assert [e["code"] for e in json.loads(capsys.readouterr().out)] == ["RATE_LIMITED", "HTTP_429"]
    assert main(["catalog", "match", "--type", "openai.RateLimitError", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["catalog_version"] == "cli-7"

    # An explicit path or --catalog still wins over the variable.
    assert main(["catalog", "validate", str(broken_file)]) == 1
    assert main(["catalog", "list", "--catalog", str(broken_file)]) == 1
    assert capsys.readouterr().err.count("entry BAD (#1)") == 2
