"""The dialog shown when the record database cannot be opened (damaged, not a database, newer schema).

Three ways on, none of which deletes anything: restore the latest backup
(the damaged file is kept next to it), open another database file, or start a
new database (the damaged file is renamed aside with ``.damaged-<time>``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from tcm_desktop.ui.i18n import t


class DamagedDialog(QMessageBox):
    def __init__(self, message: str, path: Path, latest_backup: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("damagedDialog")
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(t("数据库无法打开"))
        text = t("病历数据库无法打开：") + f"\n{path}\n\n{message}\n\n" + t("损坏的文件会被保留，不会删除。")
        self.setText(text)
        self.restore_btn = self.addButton(t("恢复最近的备份"), QMessageBox.ButtonRole.AcceptRole)
        self.restore_btn.setEnabled(latest_backup is not None)
        if latest_backup is not None:
            self.setInformativeText(t("最近的备份：") + str(latest_backup))
        self.other_btn = self.addButton(t("打开其他文件…"), QMessageBox.ButtonRole.ActionRole)
        self.new_btn = self.addButton(t("新建数据库"), QMessageBox.ButtonRole.ActionRole)
        self.quit_btn = self.addButton(t("退出"), QMessageBox.ButtonRole.RejectRole)

    def choice(self) -> str:
        b = self.clickedButton()
        return {self.restore_btn: "restore", self.other_btn: "other", self.new_btn: "new"}.get(b, "quit")

    @classmethod
    def ask(cls, message: str, path: Path, latest_backup: Path | None) -> tuple[str, str | None]:
        """Show the dialog; ``(choice, other file or None)``."""
        dlg = cls(message, path, latest_backup)
        dlg.exec()
        choice = dlg.choice()
        if choice == "other":
            other, _ = QFileDialog.getOpenFileName(None, t("打开其他文件…"), str(path.parent),
                                                   "SQLite (*.sqlite3 *.sqlite *.db);;* (*)")
            return ("other", other) if other else ("quit", None)
        return choice, None
