"""The PySide6 desktop GUI (thin: it only calls the Qt-free core).

PySide6-Essentials 6.12.0's abi3 wheels return ``None`` from ``void`` Qt
methods without taking a reference, which aborts CPython 3.11 after a few
thousand calls ("none_dealloc"); ``pyproject.toml`` excludes that release and
``tests/test_ui_qt_runtime.py`` guards against it.
"""
