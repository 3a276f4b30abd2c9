"""Image-quality gate for tongue photos (numpy + OpenCV).

Checks, in order: a tongue was found -- and the found region looks like a
tongue (:func:`tongue_likeness`: the segmentation is confident, the region is a
compact, convex, rounded shape inside the frame, and it is red/pink); it is
large enough; the tongue region is sharp; it is neither over- nor
under-exposed. The likeness thresholds were set on the first 20 photos of each
shared source and generated non-tongue images (seed 0), with margins, and are
measured on other photos and images by ``benchmarks/tongue_no_tongue.py``
(rates in ``models/tongue/MODEL_CARD.md``). Any failure yields a message and
the attributes are withheld. Thresholds were set against the shared training
photos (see docs/tongue.md): the blur threshold sits below the 1st percentile of
the tongue regions of all three sources, so real photos pass and only clearly
blurred ones are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_AREA_FRAC_FOUND = 0.005  # tongue pixels / image pixels below this: no tongue
MIN_MEAN_PROB = 0.70  # mean mask probability inside the tongue below this: not confident there is one
MIN_AREA_FRAC = 0.02  # below this the tongue is too small in the frame
MIN_SIDE_PX = 48  # tongue bounding box shorter side, in original pixels
BLUR_SIDE = 256  # the tongue crop is resized to this longer side before measuring sharpness
MIN_SHARPNESS = 30.0  # variance of the Laplacian of the tongue crop: shared photos >= 100, Gaussian blur sigma 4 <= 13
DARK_MEAN = 45.0  # mean luma in the tongue below this: under-exposed
BRIGHT_MEAN = 230.0  # mean luma above this: over-exposed
CLIPPED_FRAC = 0.65  # share of tongue pixels with a channel at >= 250 (TonguExpert crops reach 0.61): over-exposed
CRUSHED_FRAC = 0.30  # share of tongue pixels with luma <= 10: under-exposed
# tongue likeness (tongue photos of the three sources: mean prob >= 0.97, border <= 0.004, solidity >= 0.94,
# circularity >= 0.73, red share >= 0.99; fractals, noise, plain colours and patterns fail at least one)
LIKE_MEAN_PROB = 0.95  # mean segmentation probability inside the region
LIKE_MAX_BORDER = 0.05  # share of the image border the region touches
LIKE_MIN_SOLIDITY = 0.90  # region area / convex hull area
LIKE_MIN_CIRCULARITY = 0.60  # 4 pi area / perimeter^2 of the outline
LIKE_MIN_RED = 0.80  # share of region pixels with a red/pink hue (HSV hue <= 15 or >= 150 of 180, saturation >= 40)


@dataclass
class Quality:
    ok: bool
    message: str | None
    measures: dict
    #: machine-readable cause of a refusal (one of :data:`REASONS`), for callers that word it themselves
    reason: str | None = None


#: refusal causes: the quality gate's, plus the engine's ``grayscale``/``unreadable``/``failed``
REASONS = ("no_tongue", "too_small", "over_exposed", "under_exposed", "blurred", "grayscale", "unreadable", "failed")


def luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def sharpness(rgb_crop: np.ndarray, mask_crop: np.ndarray | None = None) -> float:
    g = luma(rgb_crop)
    h, w = g.shape
    s = BLUR_SIDE / max(h, w)
    g = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    lap = cv2.Laplacian(g.astype(np.float32), cv2.CV_32F, ksize=3)
    if mask_crop is not None and mask_crop.any():
        m = cv2.resize(mask_crop.astype(np.uint8), (g.shape[1], g.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
        m = cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)  # ignore the tongue's own edge
        if m.sum() > 100:
            return float(lap[m].var())
    return float(lap.var())


def exposure(rgb: np.ndarray, mask: np.ndarray) -> dict:
    px = rgb[mask]
    if len(px) == 0:
        px = rgb.reshape(-1, 3)
    y = px @ np.array([0.299, 0.587, 0.114])
    return {
        "mean_luma": float(y.mean()),
        "clipped_frac": float(np.mean(px.max(1) >= 250)),
        "crushed_frac": float(np.mean(y <= 10)),
    }


def tongue_likeness(rgb: np.ndarray, mask: np.ndarray, mean_prob: float) -> dict:
    """Shape and colour measures of the segmented region, and whether it looks like a tongue (``like``)."""
    m8 = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    solidity = area / max(cv2.contourArea(cv2.convexHull(c)), 1.0)
    circularity = 4 * np.pi * area / max(cv2.arcLength(c, True) ** 2, 1.0)
    border = float(np.mean([mask[0].mean(), mask[-1].mean(), mask[:, 0].mean(), mask[:, -1].mean()]))
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[mask]
    hue, sat = hsv[:, 0], hsv[:, 1]
    red = float(np.mean(((hue <= 15) | (hue >= 150)) & (sat >= 40)))
    out = {"solidity": round(float(solidity), 3), "circularity": round(float(circularity), 3),
           "border": round(border, 3), "red_frac": round(red, 3)}
    out["like"] = bool(mean_prob >= LIKE_MEAN_PROB and border <= LIKE_MAX_BORDER and solidity >= LIKE_MIN_SOLIDITY
                       and circularity >= LIKE_MIN_CIRCULARITY and red >= LIKE_MIN_RED)
    return out


def check(rgb: np.ndarray, mask: np.ndarray, mean_prob: float, likeness: bool = False) -> Quality:
    """``rgb`` and boolean ``mask`` at the same (working) resolution.

    ``likeness``: also refuse a region that does not look like a tongue (:func:`tongue_likeness`);
    the engine asks for it, unit tests of the other checks on synthetic shapes do not.
    """
    h, w = mask.shape
    area = float(mask.mean())
    m: dict = {"area_frac": round(area, 4), "mean_prob": round(mean_prob, 3)}
    if area < MIN_AREA_FRAC_FOUND or mean_prob < MIN_MEAN_PROB:
        return Quality(False, "no tongue found in the photo", m, "no_tongue")
    if likeness:
        like = tongue_likeness(rgb, mask, mean_prob)
        m.update({k: v for k, v in like.items() if k != "like"})
        if not like["like"]:
            return Quality(False, "no tongue found in the photo", m, "no_tongue")
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    m["bbox"] = [int(x0), int(y0), int(x1), int(y1)]
    if area < MIN_AREA_FRAC or min(y1 - y0, x1 - x0) < MIN_SIDE_PX:
        return Quality(False, "tongue too small in the photo: move closer so the tongue fills more of the frame", m, "too_small")
    e = exposure(rgb, mask)
    m.update({k: round(v, 3) for k, v in e.items()})
    if e["mean_luma"] > BRIGHT_MEAN or e["clipped_frac"] > CLIPPED_FRAC:
        return Quality(False, "photo over-exposed: the tongue is washed out (reduce light or flash)", m, "over_exposed")
    if e["mean_luma"] < DARK_MEAN or e["crushed_frac"] > CRUSHED_FRAC:
        return Quality(False, "photo under-exposed: the tongue is too dark (add light)", m, "under_exposed")
    sh = sharpness(rgb[y0:y1, x0:x1], mask[y0:y1, x0:x1])
    m["sharpness"] = round(sh, 2)
    if sh < MIN_SHARPNESS:
        return Quality(False, "photo blurred: hold the camera still and focus on the tongue", m, "blurred")
    return Quality(True, None, m)
