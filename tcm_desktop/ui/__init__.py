"""The PySide6 desktop GUI (thin: it only calls the Qt-free core).

Importing this package applies one interpreter-level guard, before any Qt call:
the PySide6/shiboken6 6.12 ``abi3`` wheels return ``None`` from every ``void``
Qt method without taking a reference (fine on CPython >= 3.12, where ``None``
is immortal). On CPython 3.11 each such call (``setText``, ``processEvents``,
``show``…) drops ``None``'s reference count by one, and after a few thousand
calls the interpreter aborts with "Fatal Python error: none_dealloc". We make
``None`` effectively immortal on 3.11 by adding 2**40 to its count: ``None``
is never freed anyway, so this changes nothing else.
"""

from __future__ import annotations

import sys


def _pin_none_refcount() -> bool:
    """Give None a huge reference count on CPython < 3.12; True when applied."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    import ctypes

    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of every PyObject
    if refcnt.value < 1 << 40:
        refcnt.value += 1 << 40
    return True


NONE_PINNED = _pin_none_refcount()
