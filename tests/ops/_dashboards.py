"""Reading the Grafana dashboards as a Grafana would: panels, targets, template variables."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

# Grafana's built-in interval variables, fixed to values that suit a 1 s scrape interval.
_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those nested in collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query of every panel."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def variables(dashboard: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in dashboard["templating"]["list"]}


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace ``$name``, ``${name}`` and ``${name:format}`` as Grafana does for one value.

    Grafana's built-ins (``$__rate_interval`` ...) get fixed values; an unknown variable is an
    error, so a panel referring to a variable the dashboard lacks cannot pass unnoticed.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in _BUILTINS:
            return _BUILTINS[name]
        if name not in values:
            raise KeyError(f"unknown template variable ${name} in {text!r}")
        return values[name]

    return _VARIABLE.sub(replace, text)


def referenced_variables(text: str) -> set[str]:
    return {m.group(1) or m.group(3) for m in _VARIABLE.finditer(text)} - set(_BUILTINS)
