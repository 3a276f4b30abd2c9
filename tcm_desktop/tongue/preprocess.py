"""Image preprocessing shared by training and run time (numpy + OpenCV, no torch).

The model sees a square ``size`` x ``size`` letterbox: the image scaled so its
longer side is ``size``, centred, the border filled with black. Training and
the runtime both call :func:`letterbox`, so there is no train/serve skew.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """Where the scaled image sits inside the letterbox."""

    x0: int
    y0: int
    w: int
    h: int
    src_w: int
    src_h: int


def letterbox(img: np.ndarray, size: int, interp_mask: bool = False) -> tuple[np.ndarray, Box]:
    """Scale ``img`` (H x W or H x W x C, uint8) into a ``size`` square; return it and its box."""
    h, w = img.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, min(size, round(w * scale))), max(1, min(size, round(h * scale)))
    if interp_mask:
        interp = cv2.INTER_NEAREST
    else:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(img, (nw, nh), interpolation=interp)
    out = np.zeros((size, size) + img.shape[2:], dtype=img.dtype)
    x0, y0 = (size - nw) // 2, (size - nh) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out, Box(x0, y0, nw, nh, w, h)


def unletterbox(prob: np.ndarray, box: Box) -> np.ndarray:
    """Map a ``size`` x ``size`` float map back to the source image size."""
    crop = prob[box.y0 : box.y0 + box.h, box.x0 : box.x0 + box.w]
    return cv2.resize(crop.astype(np.float32), (box.src_w, box.src_h), interpolation=cv2.INTER_LINEAR)


def to_input(img_sq: np.ndarray) -> np.ndarray:
    """uint8 H x W x 3 RGB -> float32 1 x 3 x H x W in 0..255 (the model normalises inside)."""
    return np.ascontiguousarray(img_sq.transpose(2, 0, 1)[None].astype(np.float32))


def largest_component(mask: np.ndarray) -> np.ndarray:
    """Keep the largest 8-connected foreground component of a bool mask and fill its holes."""
    m = mask.astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, dtype=bool)
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    keep = (lab == k).astype(np.uint8)
    contours, _ = cv2.findContours(keep, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(keep)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)
