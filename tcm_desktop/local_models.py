"""Which text model the app uses: the shipped one or a local adapted one, with rollback.

Adapted models live in ``<user data>/models/<version>/`` (written by
``tcm-desktop adapt``); the shipped ``models/ner`` is never modified. The choice
is one small file, ``<user data>/active_model.json``; switching back is writing
the shipped model's name (or deleting the file). A chosen folder that has since
disappeared falls back to the shipped model rather than failing to start.
Qt-free: the app's model dialog and the CLI share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tcm_desktop.config import models_dir, user_dir

ACTIVE_FILE = "active_model.json"
SHIPPED = "shipped"


@dataclass(frozen=True)
class ModelEntry:
    name: str  # "shipped" or the folder name under <user data>/models
    path: Path
    version: str
    card: str  # MODEL_CARD.md text ("" when none)
    shipped: bool


def local_models_dir() -> Path:
    return user_dir() / "models"


def _entry(path: Path, name: str, shipped: bool) -> ModelEntry | None:
    try:
        meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    card = path / "MODEL_CARD.md"
    return ModelEntry(name, path, str(meta.get("version", "?")), card.read_text(encoding="utf-8") if card.exists() else "", shipped)


def list_models() -> list[ModelEntry]:
    """The shipped model first, then local ones newest first (unfinished ``*.work`` folders skipped)."""
    out = [e for e in [_entry(models_dir() / "ner", SHIPPED, True)] if e]
    root = local_models_dir()
    if root.is_dir():
        for d in sorted(root.iterdir(), reverse=True):
            if d.is_dir() and not d.name.endswith(".work"):
                e = _entry(d, d.name, False)
                if e:
                    out.append(e)
    return out


def active_name() -> str:
    try:
        name = json.loads((user_dir() / ACTIVE_FILE).read_text(encoding="utf-8"))["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return SHIPPED
    return name if name == SHIPPED or (local_models_dir() / name / "model.json").exists() else SHIPPED


def active_model_dir() -> Path:
    name = active_name()
    return models_dir() / "ner" if name == SHIPPED else local_models_dir() / name


def set_active(name: str) -> None:
    """Use model ``name`` from now on (``"shipped"`` switches back)."""
    if name != SHIPPED and not (local_models_dir() / name / "model.json").exists():
        raise ValueError(f"no local model {name!r} in {local_models_dir()}")
    path = user_dir() / ACTIVE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": name}), encoding="utf-8")
