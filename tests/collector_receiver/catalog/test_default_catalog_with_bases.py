"""The default catalog's cases still hold when the failures carry their real base types.

An entry naming a base class (``ValueError``, ``OSError``, ``openai.APIError``) also matches every
subclass once the agent sends ``failcat.base_types``. Each case of ``default_cases.yaml`` whose
type is a class importable here is matched again with the bases the agent would send for that
class (``otel_failcat``'s own rule), so that a broad entry cannot start catching the specific
failures of another entry, nor an ordinary programming error stop being ``UNCATALOGED``.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from collector_receiver.catalog import Catalog, load_catalog
from collector_receiver.events import UNCATALOGED
from otel_failcat._exception_info import base_types
from tests.collector_receiver.catalog.test_default_catalog import CASES, _event

#: Packages not imported here: litellm fetches a price list over the network on import.
_NOT_IMPORTED = frozenset({"litellm"})


def _real_class(name: str) -> type[BaseException] | None:
    """The exception class a qualified name stands for, if it can be imported here."""
    module_name, _, qualname = name.rpartition(".")
    if module_name.partition(".")[0] in _NOT_IMPORTED:
        return None
    try:
        target: Any = importlib.import_module(module_name) if module_name else builtins
    except Exception:  # not installed here, or not a module at all
        return None
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if isinstance(target, type) and issubclass(target, BaseException):
        return target
    return None


def _with_bases(kind: str) -> list[Any]:
    params = []
    for index, case in enumerate(CASES[kind]):
        found = _real_class(str(case["exception_type"]))
        if found is not None and base_types(found):
            params.append(pytest.param(case, base_types(found), id=f"{index:03d}-{found.__name__}"))
    return params


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize(("case", "bases"), _with_bases("positive"))
def test_positive_case_keeps_its_code_with_its_bases(
    catalog: Catalog, case: Mapping[str, Any], bases: list[str]
) -> None:
    verdict = catalog.match(replace(_event(case), base_types=tuple(bases)))

    assert verdict.code == case["expect"], verdict.reasons


@pytest.mark.parametrize(("case", "bases"), _with_bases("negative"))
def test_negative_case_stays_uncataloged_with_its_bases(
    catalog: Catalog, case: Mapping[str, Any], bases: list[str]
) -> None:
    verdict = catalog.match(replace(_event(case), base_types=tuple(bases)))

    assert verdict.code == UNCATALOGED, verdict.reasons


def test_enough_cases_have_real_bases_to_mean_something() -> None:
    assert len(_with_bases("negative")) >= 10
    assert len(_with_bases("positive")) >= 20
