"""ReceiverSettings: flags over environment over defaults, and one-line errors for bad values."""

from __future__ import annotations

import pytest

from collector_receiver.settings import ReceiverSettings, SettingsError


def test_defaults_follow_the_contract() -> None:
    settings = ReceiverSettings.from_sources({}, environ={})
    assert settings.database_url == "sqlite:///failcat.db"
    assert settings.catalog_path is None
    assert settings.host == "127.0.0.1"
    assert (settings.grpc_port, settings.http_port, settings.api_port) == (4317, 4318, 9464)
    assert settings.max_request_bytes == 64 * 1024 * 1024
    assert settings.max_inflight_bytes == 256 * 1024 * 1024
    assert settings.migrate is True
    assert settings.auth_token is None
    assert settings.trace_url_template is None


def test_environment_is_read_and_flags_win() -> None:
    env = {
        "FAILCAT_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "FAILCAT_CATALOG": "env.yaml",
        "FAILCAT_GRPC_PORT": "5317",
        "FAILCAT_AUTH_TOKEN": "s3cret",
        "FAILCAT_TRACE_URL_TEMPLATE": "http://jaeger/trace/{trace_id}",
        "FAILCAT_NO_MIGRATE": "1",
        "FAILCAT_MAX_INFLIGHT_BYTES": "1000000",
    }
    settings = ReceiverSettings.from_sources({"catalog_path": "flag.yaml", "api_port": "0"}, env)
    assert settings.max_inflight_bytes == 1_000_000
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.catalog_path == "flag.yaml"
    assert settings.grpc_port == 5317
    assert settings.api_port == 0
    assert settings.auth_token == "s3cret"
    assert settings.trace_url_template == "http://jaeger/trace/{trace_id}"
    assert settings.migrate is False


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ({"grpc_port": "abc"}, {}, "--grpc-port: 'abc' is not an integer"),
        ({}, {"FAILCAT_HTTP_PORT": "x"}, "FAILCAT_HTTP_PORT: 'x' is not an integer"),
        ({"api_port": "70000"}, {}, "--api-port: 70000 is not a port"),
        ({"grpc_port": "5000", "http_port": "5000"}, {}, "must differ"),
        ({"max_request_bytes": "10"}, {}, "--max-request-bytes: 10 is too small"),
        ({"write_batch_size": "0"}, {}, "--write-batch-size: 0 must be at least 1"),
        ({"max_inflight_bytes": "5"}, {}, "--max-inflight-bytes: 5 is too small"),
        ({}, {"FAILCAT_MAX_INFLIGHT_BYTES": "1e9"}, "FAILCAT_MAX_INFLIGHT_BYTES: '1e9' is not"),
        ({}, {"FAILCAT_NO_MIGRATE": "maybe"}, "FAILCAT_NO_MIGRATE"),
        ({}, {"FAILCAT_TRACE_URL_TEMPLATE": "http://x/"}, "must contain {trace_id}"),
        ({}, {"FAILCAT_AUTH_TOKEN": "  "}, "FAILCAT_AUTH_TOKEN is set but empty"),
    ],
)
def test_bad_values_are_refused_with_one_line(
    flags: dict[str, object], env: dict[str, str], expected: str
) -> None:
    with pytest.raises(SettingsError) as info:
        ReceiverSettings.from_sources(flags, env)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_disabled_listeners_may_share_port_zero() -> None:
    settings = ReceiverSettings.from_sources({"grpc_port": "0", "http_port": "0"}, {})
    assert settings.grpc_port == settings.http_port == 0
