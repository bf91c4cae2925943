"""Each name of ``collector_receiver.environment_variables`` is the variable it names, and the
receiver's settings read the variables under those names."""

from __future__ import annotations

from collector_receiver import environment_variables
from collector_receiver.settings import DEFAULT_DATABASE_URL, ReceiverSettings


def test_every_constant_is_spelled_as_its_variable() -> None:
    variables = [name for name in environment_variables.__all__ if name.startswith("FAILCAT_")]

    assert len(variables) == 27
    for name in variables:
        assert getattr(environment_variables, name) == name


def test_settings_read_the_named_variables() -> None:
    settings = ReceiverSettings.from_sources(
        environ={
            environment_variables.FAILCAT_DATABASE_URL: "sqlite:///elsewhere.db",
            environment_variables.FAILCAT_GRPC_PORT: "5317",
            environment_variables.FAILCAT_TRACE_URL_TEMPLATE: "https://t/{trace_id}",
        }
    )

    assert settings.database_url == "sqlite:///elsewhere.db"
    assert settings.grpc_port == 5317
    assert settings.trace_url_template == "https://t/{trace_id}"
    assert ReceiverSettings.from_sources(environ={}).database_url == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL is environment_variables.DEFAULT_DATABASE_URL
