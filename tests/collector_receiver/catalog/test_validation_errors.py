"""A catalog with any mistake is refused as a whole, with one line naming file, entry and reason."""

from __future__ import annotations

import pytest

from collector_receiver.catalog import CatalogError, parse_catalog
from tests.collector_receiver.catalog._helpers import VALID_ENTRY_YAML, catalog_yaml

ENTRY_HEAD = """\
  - code: BROKEN_THING
    title: Broken
    category: tool
    severity: high
    remediation: Fix it.
"""


def refuse(text: str) -> str:
    with pytest.raises(CatalogError) as info:
        parse_catalog(text, "my-catalog.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("my-catalog.yaml: ")
    return message


def refuse_entry(match_and_extra_yaml: str) -> str:
    """Refusal of a catalog whose second entry is ENTRY_HEAD plus the given lines."""
    message = refuse(catalog_yaml(VALID_ENTRY_YAML + ENTRY_HEAD + match_and_extra_yaml))
    assert message.startswith("my-catalog.yaml: entry BROKEN_THING (#2): ")
    return message


def test_yaml_syntax_error_names_the_line() -> None:
    message = refuse(catalog_yaml(VALID_ENTRY_YAML + "  - code: X\n    title: a: b\n"))
    # the wording after the position is the YAML parser's (libyaml and pure Python differ)
    assert message.startswith("my-catalog.yaml: invalid YAML at line 12, column 13: mapping values")


def test_duplicate_mapping_key_is_refused_with_both_lines() -> None:
    text = catalog_yaml(
        ENTRY_HEAD
        + "    match:\n      exception_types: [A]\n    match:\n      exception_types: [B]\n"
    )
    message = refuse(text)
    assert "duplicate key 'match' (first at line 9)" in message
    assert "line 11" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("- 1\n- 2\n", "the top level must be a mapping, not a list"),
        ('catalog_version: "1"\nentries: []\n', "missing 'version'"),
        ('version: 1\ncatalog_version: "1"\nentries: []\n', "unsupported version 1"),
        ('version: "2"\ncatalog_version: "1"\nentries: []\n', "unsupported version '2'"),
        ("version: 2\nentries: []\n", "missing 'catalog_version'"),
        (
            "version: 2\ncatalog_version: 2025.1\nentries: []\n",
            "catalog_version must be a non-empty string, not number 2025.1",
        ),
        ('version: 2\ncatalog_version: "1"\n', "missing 'entries'"),
        ('version: 2\ncatalog_version: "1"\nentries:\n', "entries must be a list, not null"),
        (
            'version: 2\ncatalog_version: "1"\nentries: []\ncomment: x\n',
            "unknown top-level key 'comment'",
        ),
    ],
)
def test_file_level_problems(text: str, expected: str) -> None:
    assert expected in refuse(text)


def test_entry_that_is_not_a_mapping() -> None:
    message = refuse(catalog_yaml("  - just a string\n"))
    assert (
        message
        == "my-catalog.yaml: entry #1: an entry must be a mapping, not string 'just a string'"
    )


def test_missing_code_names_the_index_and_line() -> None:
    text = catalog_yaml(VALID_ENTRY_YAML + "  - title: No code\n    category: tool\n")
    assert refuse(text) == "my-catalog.yaml: entry #2: missing required key 'code' (line 11)"


@pytest.mark.parametrize("code", ["rate_limited", "Rate", "RATE-LIMITED", "_X", "A__B", "1ABC"])
def test_bad_code(code: str) -> None:
    text = catalog_yaml(VALID_ENTRY_YAML.replace("RATE_LIMITED", code))
    message = refuse(text)
    assert message.startswith("my-catalog.yaml: entry #1: code ")
    assert "is not UPPER_SNAKE_CASE" in message


def test_code_that_is_not_a_string() -> None:
    assert "code 42 is not UPPER_SNAKE_CASE" in refuse(
        catalog_yaml(VALID_ENTRY_YAML.replace("RATE_LIMITED", "42"))
    )


def test_duplicate_code_points_at_the_first_use() -> None:
    message = refuse(catalog_yaml(VALID_ENTRY_YAML + VALID_ENTRY_YAML))
    assert message == (
        "my-catalog.yaml: entry RATE_LIMITED (#2): duplicate code RATE_LIMITED "
        "(first used by entry #1) (line 11)"
    )


def test_reserved_code() -> None:
    message = refuse(catalog_yaml(VALID_ENTRY_YAML.replace("RATE_LIMITED", "UNCATALOGED")))
    assert "code UNCATALOGED is reserved" in message


def test_unknown_entry_key() -> None:
    message = refuse_entry("    match: {exception_types: [X]}\n    descripton: typo\n")
    assert "unknown entry key 'descripton'" in message


@pytest.mark.parametrize("key", ["title", "category", "severity"])
def test_missing_required_key(key: str) -> None:
    head = "".join(line + "\n" for line in ENTRY_HEAD.splitlines() if f" {key}:" not in line)
    message = refuse(catalog_yaml(head + "    match: {exception_types: [X]}\n"))
    assert f"missing required key '{key}'" in message


def test_remediation_is_optional_but_never_empty() -> None:
    head = "".join(line + "\n" for line in ENTRY_HEAD.splitlines() if " remediation:" not in line)
    catalog = parse_catalog(catalog_yaml(head + "    match: {exception_types: [X]}\n"))
    assert catalog.entries[0].remediation == ""
    empty = catalog_yaml(head + "    remediation: '  '\n    match: {exception_types: [X]}\n")
    assert "remediation must be a non-empty string" in refuse(empty)


def test_missing_match() -> None:
    assert "missing required key 'match'" in refuse_entry("")


def test_unknown_severity_lists_the_allowed_ones() -> None:
    text = catalog_yaml(VALID_ENTRY_YAML.replace("severity: medium", "severity: severe"))
    assert refuse(text) == (
        "my-catalog.yaml: entry RATE_LIMITED (#1): unknown severity 'severe' "
        "(expected one of: critical, high, medium, low, info) (line 4)"
    )


@pytest.mark.parametrize("category", ["Rate_limit", "rate-limit", "rate limit", "_x", "1x"])
def test_bad_category(category: str) -> None:
    text = catalog_yaml(VALID_ENTRY_YAML.replace("category: rate_limit", f"category: '{category}'"))
    assert "must be a lowercase word" in refuse(text)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    priority: high\n", "priority must be an integer, not string 'high'"),
        ("    priority: 1.5\n", "priority must be an integer, not number 1.5"),
        ("    priority: true\n", "priority must be an integer, not boolean true"),
        ("    runbook_url: not a url\n", "runbook_url 'not a url' must be an http(s) URL"),
        ("    title: ''\n", "title must be a non-empty string"),
    ],
)
def test_wrong_types_of_optional_and_text_keys(line: str, expected: str) -> None:
    text = catalog_yaml(
        "  - code: BROKEN_THING\n"
        + line
        + "".join(
            f"{x}\n" for x in ENTRY_HEAD.splitlines()[1:] if x.split(":")[0] != line.split(":")[0]
        )
        + "    match: {exception_types: [X]}\n"
    )
    message = refuse(text)
    assert message.startswith("my-catalog.yaml: entry BROKEN_THING (#1): ")
    assert expected in message


@pytest.mark.parametrize(
    ("match_yaml", "expected"),
    [
        ("    match: {}\n", "match is empty"),
        ("    match:\n", "match must be a mapping of match kinds, not null"),
        ("    match: [exception_types]\n", "match must be a mapping of match kinds, not a list"),
        ("    match: {exception_type: [X]}\n", "unknown match kind 'exception_type'"),
        (
            "    match: {exception_types: X}\n",
            "match.exception_types must be a list, not string 'X'",
        ),
        ("    match: {exception_types: []}\n", "match.exception_types is an empty list"),
        (
            "    match: {exception_types: [1]}\n",
            "match.exception_types[0] must be a non-empty string",
        ),
        (
            "    match: {exception_types: ['a b']}\n",
            "match.exception_types[0] 'a b' is not a dotted type name",
        ),
        ("    match: {exception_types: ['openai.']}\n", "is not a dotted type name"),
        (
            "    match: {message_patterns: ['ok', '(unclosed']}\n",
            "match.message_patterns[1] '(unclosed' is not a valid RE2 regex: missing ): (unclosed",
        ),
        (
            "    match: {message_patterns: ['(?<=x)y']}\n",
            "is not a valid RE2 regex: invalid perl operator",
        ),
        (
            "    match: {message_patterns: [null]}\n",
            "match.message_patterns[0] must be a non-empty string, not null",
        ),
        (
            "    match: {attributes: []}\n",
            "match.attributes must be a mapping of attribute to value",
        ),
        ("    match: {attributes: {}}\n", "match.attributes is empty"),
        (
            "    match: {attributes: {k: null}}\n",
            "match.attributes['k'] must be a string, number or boolean",
        ),
        ("    match: {attributes: {k: []}}\n", "match.attributes['k'] is an empty list"),
        (
            "    match: {attributes: {k: [1, {a: 1}]}}\n",
            "must be a string, number or boolean, a list of them",
        ),
        (
            "    match: {attributes: {k: {regex: x}}}\n",
            "match.attributes['k']: unknown key 'regex'",
        ),
        (
            "    match: {attributes: {k: {pattern: 3}}}\n",
            "match.attributes['k'].pattern must be a non-empty string",
        ),
        (
            "    match: {attributes: {k: {pattern: '[z-a]'}}}\n",
            "match.attributes['k'].pattern '[z-a]' is not a valid RE2 regex: "
            "invalid character class range",
        ),
        ("    match: {error_types: {a: 1}}\n", "match.error_types must be a list, not a mapping"),
        (
            "    match: {error_types: [true]}\n",
            "match.error_types[0] must be a non-empty string, not boolean true",
        ),
    ],
)
def test_match_block_problems(match_yaml: str, expected: str) -> None:
    assert expected in refuse_entry(match_yaml)


def test_the_first_problem_in_file_order_is_reported() -> None:
    text = catalog_yaml(
        ENTRY_HEAD
        + "    match: {message_patterns: ['(bad']}\n"
        + VALID_ENTRY_YAML.replace("medium", "nope")
    )
    assert "(#1): match.message_patterns[0]" in refuse(text)


def test_mapping_key_that_is_a_list_is_a_yaml_problem() -> None:
    assert "a mapping key must be a scalar" in refuse("? [a, b]\n: 1\n")


def test_unsafe_yaml_tags_are_refused() -> None:
    message = refuse("!!python/object/apply:os.system ['true']\n")
    assert message.startswith("my-catalog.yaml: invalid YAML at line 1")
