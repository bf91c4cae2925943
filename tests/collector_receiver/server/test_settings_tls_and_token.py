"""TLS flags, the auth token and --metrics-auth in ReceiverSettings: what goes together, and
that a variable set but empty is refused rather than read as "no TLS" or "no token"."""

from __future__ import annotations

import pytest

from collector_receiver.settings import ReceiverSettings, SettingsError


def test_tls_paths_come_from_flags_over_environment() -> None:
    env = {
        "FAILCAT_TLS_CERT": "env.pem",
        "FAILCAT_TLS_KEY": "env.key",
        "FAILCAT_TLS_CLIENT_CA": "ca.pem",
        "FAILCAT_AUTH_TOKEN": "s3cret",
        "FAILCAT_METRICS_AUTH": "1",
    }
    settings = ReceiverSettings.from_sources({"tls_cert": "flag.pem"}, env)
    assert (settings.tls_cert, settings.tls_key, settings.tls_client_ca) == (
        "flag.pem",
        "env.key",
        "ca.pem",
    )
    assert settings.metrics_auth is True


def test_defaults_are_plain_text_and_open_metrics() -> None:
    settings = ReceiverSettings.from_sources({}, {})
    assert (settings.tls_cert, settings.tls_key, settings.tls_client_ca) == (None, None, None)
    assert settings.metrics_auth is False


def test_metrics_auth_flag_with_a_token() -> None:
    settings = ReceiverSettings.from_sources({"metrics_auth": True}, {"FAILCAT_AUTH_TOKEN": "t"})
    assert settings.metrics_auth is True


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ({"tls_cert": "c.pem"}, {}, "--tls-cert needs --tls-key too"),
        ({}, {"FAILCAT_TLS_KEY": "k.pem"}, "--tls-key needs --tls-cert too"),
        ({"tls_client_ca": "ca.pem"}, {}, "--tls-client-ca needs --tls-cert and --tls-key"),
        ({}, {"FAILCAT_TLS_CERT": "", "FAILCAT_TLS_KEY": ""}, "--tls-cert: the path is empty"),
        ({"tls_cert": "c", "tls_key": " "}, {}, "--tls-key: the path is empty"),
        ({}, {"FAILCAT_AUTH_TOKEN": ""}, "FAILCAT_AUTH_TOKEN is set but empty"),
        ({}, {"FAILCAT_AUTH_TOKEN": " \t"}, "FAILCAT_AUTH_TOKEN is set but empty"),
        ({"metrics_auth": True}, {}, "--metrics-auth needs FAILCAT_AUTH_TOKEN"),
        ({}, {"FAILCAT_METRICS_AUTH": "1"}, "--metrics-auth needs FAILCAT_AUTH_TOKEN"),
        (
            {},
            {"FAILCAT_METRICS_AUTH": "on", "FAILCAT_AUTH_TOKEN": "t"},
            "FAILCAT_METRICS_AUTH: 'on' is not a boolean",
        ),
    ],
)
def test_refused_with_one_line(
    flags: dict[str, object], env: dict[str, str], expected: str
) -> None:
    with pytest.raises(SettingsError) as info:
        ReceiverSettings.from_sources(flags, env)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
