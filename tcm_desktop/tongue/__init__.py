"""Tongue-photo analysis (runtime core: onnxruntime + numpy + OpenCV/Pillow, no torch, no Qt).

Public API: :func:`analyse_images`, :func:`tongue_text`, :func:`compare_with_record`; for a viewer
:meth:`TongueEngine.analyse_bytes` returns a :class:`TongueAnalysis` (result, photo, mask, outline).
"""

from tcm_desktop.tongue.engine import (
           TongueAnalysis,
           TongueEngine,
           analyse_images,
           get_engine,
           mask_outline,
           model_available,
)
from tcm_desktop.tongue.wording import compare_with_record, tongue_text

__all__ = ["TongueAnalysis", "TongueEngine", "analyse_images", "compare_with_record", "get_engine", "mask_outline",
           "model_available", "tongue_text"]
