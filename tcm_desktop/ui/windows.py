"""Set-up shared by the app's modeless tool windows (batch import, clinic insights)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


def init_tool_window(dialog: QDialog, name: str, title: str, size: tuple[int, int]) -> None:
    """Name (for tests and style sheets), title and size a modeless dialog, so it never blocks the main window."""
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.setModal(False)
    dialog.resize(*size)
