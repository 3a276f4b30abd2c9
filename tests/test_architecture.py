"""The core never imports PySide6 or torch; the Qt layer never imports torch; declared import contracts hold.

Checked in a fresh interpreter with import hooks that fail on the forbidden
packages, so the app can run on onnxruntime alone.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import tcm_desktop

PKG = Path(tcm_desktop.__file__).parent


def _modules(exclude_prefixes: tuple[str, ...]) -> list[str]:
    names = []
    for m in pkgutil.walk_packages([str(PKG)], prefix="tcm_desktop."):
        if not m.name.startswith(exclude_prefixes) and m.name != "tcm_desktop.__main__":
            names.append(m.name)
    return names


def _import_with_blocked(modules: list[str], blocked: list[str]) -> subprocess.CompletedProcess:
    code = f"""
import importlib, importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('forbidden import: ' + name)
sys.meta_path.insert(0, Block())
for m in {modules!r}:
    importlib.import_module(m)
print('ok', len({modules!r}))
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_imports_neither_qt_nor_torch() -> None:
    core = _modules(("tcm_desktop.ui", "tcm_desktop.training"))
    assert "tcm_desktop.text.engine" in core and "tcm_desktop.schema" in core
    res = _import_with_blocked(core, ["PySide6", "torch", "transformers", "torch_pruning"])
    assert res.returncode == 0, res.stderr[-2000:]


def test_ui_does_not_import_torch() -> None:
    ui = [m for m in _modules(("tcm_desktop.training",)) if m.startswith("tcm_desktop.ui")]
    assert ui, "the Qt layer should exist"
    res = _import_with_blocked(ui, ["torch", "transformers", "torch_pruning"])
    assert res.returncode == 0, res.stderr[-2000:]


def test_blocker_really_blocks() -> None:
    """The check above would catch a core module that imports torch."""
    res = _import_with_blocked(["tcm_desktop.training.ner_model"], ["torch"])
    assert res.returncode != 0 and "forbidden import: torch" in res.stderr


def test_declared_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]): core without Qt/torch, engines independent, layers."""
    lint = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(lint)], capture_output=True, text=True, timeout=300, cwd=PKG.parent)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout and res.stdout.count(" KEPT") >= 4
def test_only_the_archive_command_imports_ray() -> None:
    """Ray and pyarrow (the optional ``scale`` extra) stay out of the app: the CLI imports ``tcm_desktop.scale`` lazily."""
    app = [m for m in _modules(("tcm_desktop.training", "tcm_desktop.scale"))]
    assert "tcm_desktop.cli" in app and "tcm_desktop.ui.app" in app
    res = _import_with_blocked(app, ["ray", "pyarrow"])
    assert res.returncode == 0, res.stderr[-2000:]
