"""The stored-attribute caps and the metric label cap: contract defaults, flags over environment,
and one-line refusals for values out of range (the attribute caps may only be lowered)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collector_receiver.settings import ReceiverSettings, SettingsError

FLAGS = {
    "max_attributes": ("FAILCAT_MAX_ATTRIBUTES", "--max-attributes", 128),
    "max_attribute_key_length": (
        "FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH",
        "--max-attribute-key-length",
        256,
    ),
    "max_attribute_list_length": (
        "FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH",
        "--max-attribute-list-length",
        128,
    ),
    "max_attributes_bytes": ("FAILCAT_MAX_ATTRIBUTES_BYTES", "--max-attributes-bytes", 65536),
    "max_label_values": ("FAILCAT_MAX_LABEL_VALUES", "--max-label-values", 200),
}


def test_defaults_are_the_contracts() -> None:
    settings = ReceiverSettings.from_sources({}, environ={})

    for field, (_, _, default) in FLAGS.items():
        assert getattr(settings, field) == default, field


@pytest.mark.parametrize("field", sorted(FLAGS))
def test_the_environment_is_read_and_the_flag_wins(field: str) -> None:
    variable, _, default = FLAGS[field]
    lower = default // 2

    from_env = ReceiverSettings.from_sources({}, environ={variable: str(lower)})
    from_flag = ReceiverSettings.from_sources({field: str(lower - 1)}, {variable: str(lower)})

    assert getattr(from_env, field) == lower
    assert getattr(from_flag, field) == lower - 1


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("max_attributes", "0", "--max-attributes: 0 is out of range (1 to 128"),
        ("max_attributes", "129", "--max-attributes: 129 is out of range"),
        ("max_attribute_key_length", "257", "--max-attribute-key-length: 257 is out of range"),
        ("max_attribute_list_length", "-5", "--max-attribute-list-length: -5 is out of range"),
        ("max_attributes_bytes", "1000", "--max-attributes-bytes: 1000 is out of range (1024"),
        ("max_attributes_bytes", "65537", "--max-attributes-bytes: 65537 is out of range"),
        ("max_label_values", "0", "--max-label-values: 0 must be at least 1"),
        ("max_label_values", "many", "--max-label-values: 'many' is not an integer"),
    ],
)
def test_values_out_of_range_are_refused_with_one_line(field: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as raised:
        ReceiverSettings.from_sources({field: value}, environ={})

    assert str(raised.value).startswith(reason)
    assert "\n" not in str(raised.value)


def test_the_environment_variable_is_named_when_it_is_the_bad_one() -> None:
    with pytest.raises(SettingsError, match=r"^FAILCAT_MAX_ATTRIBUTES: 'x' is not an integer"):
        ReceiverSettings.from_sources({}, environ={"FAILCAT_MAX_ATTRIBUTES": "x"})


def test_failcat_serve_refuses_a_raised_cap_before_starting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collector_receiver", "serve", "--max-attributes", "1000"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "--max-attributes: 1000 is out of range" in result.stderr
