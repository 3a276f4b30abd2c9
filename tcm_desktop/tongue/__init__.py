"""Tongue-photo analysis (runtime core: onnxruntime + numpy + OpenCV/Pillow, no torch, no Qt).

Public API: :func:`analyse_images`, :func:`tongue_text`, :func:`compare_with_record`.
"""

from .engine import TongueEngine, analyse_images, model_available
from .text import compare_with_record, tongue_text

__all__ = ["TongueEngine", "analyse_images", "compare_with_record", "model_available", "tongue_text"]
