"""Replacing one attribute (a hook or a method) and putting back exactly the object found there.

Every hook but ``logging`` is such a replacement: ``sys.excepthook``,
``threading.excepthook``, ``asyncio.BaseEventLoop.call_exception_handler`` and the SDK span's
``record_exception`` and ``set_status``. The rules they share live here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class AttributePatch(Generic[_F]):
    """``owner.name`` replaced by a wrapper around what was there, and restored by identity.

    The value is read from ``vars(owner)`` (a module's namespace, or a class ``__dict__``,
    which holds the plain function rather than a bound or inherited one), so ``uninstall()``
    puts back that very object. :attr:`active` is True from ``install()`` to ``uninstall()``;
    the wrapper checks it at call time. If someone else has wrapped ours in the meantime, ours
    cannot be unhooked without breaking them: it is left in their chain, inactive, passing
    every call straight to what it replaced.
    """

    def __init__(self, owner: object, name: str) -> None:
        self._owner = owner
        self._name = name
        self._previous: _F | None = None
        self._installed: _F | None = None
        self.active = False

    def install(self, wrap: Callable[[_F], _F]) -> None:
        """Set ``owner.name`` to ``wrap(current value)``; a second call does nothing."""
        if self._installed is not None:
            return
        previous: _F = vars(self._owner)[self._name]
        installed = wrap(previous)
        self._previous, self._installed = previous, installed
        self.active = True
        setattr(self._owner, self._name, installed)

    def uninstall(self) -> None:
        """Deactivate the wrapper, and put the original back if ours is still in place."""
        self.active = False
        if self._installed is not None and vars(self._owner).get(self._name) is self._installed:
            setattr(self._owner, self._name, self._previous)
        self._previous = self._installed = None
