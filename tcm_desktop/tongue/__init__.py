"""Tongue-photo analysis (runtime core: onnxruntime + numpy + OpenCV/Pillow, no torch, no Qt).

Public API: :func:`analyse_images`, :func:`tongue_text`, :func:`compare_with_record`; for a viewer
:meth:`TongueEngine.analyse_bytes` returns a :class:`TongueAnalysis` (result, photo, mask, outline).

The names load on first use (PEP 562): importing :mod:`tcm_desktop.tongue.wording`
for the window must not pull in OpenCV and the engine before the window shows.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "TongueAnalysis": "engine", "TongueEngine": "engine", "analyse_images": "engine", "get_engine": "engine",
    "mask_outline": "engine", "model_available": "engine", "compare_with_record": "wording", "tongue_text": "wording",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
