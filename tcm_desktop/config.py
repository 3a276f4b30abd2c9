"""Where things live: shared data, shipped models, resources, user data.

Every location can be overridden by an environment variable so CI, tests and
packaged builds can point elsewhere:

- ``TCM_DATA_DIR``: the shared (read-only) data, default ``../shared/data``
  beside the repository root;
- ``TCM_MODELS_DIR``: the shipped models, default ``models/`` in the repo (or
  the PyInstaller bundle);
- ``TCM_USER_DIR``: the user's database and settings, default the platform's
  user data directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _bundle_root() -> Path:
    """The repository root, or the unpacked PyInstaller bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parent.parent


REPO_ROOT = _bundle_root()


def data_dir() -> Path:
    return Path(os.environ.get("TCM_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def models_dir() -> Path:
    return Path(os.environ.get("TCM_MODELS_DIR", REPO_ROOT / "models"))


def resources_dir() -> Path:
    return Path(os.environ.get("TCM_RESOURCES_DIR", REPO_ROOT / "resources"))


def user_dir() -> Path:
    env = os.environ.get("TCM_USER_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("tcm-structurer", "tcm-structurer"))


def cjk_font_path() -> Path:
    """The TrueType CJK font embedded into PDF reports."""
    return resources_dir() / "fonts" / "wqy-microhei.ttc"
