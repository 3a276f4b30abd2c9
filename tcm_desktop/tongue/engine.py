"""Tongue photo analysis at run time: onnxruntime + numpy + OpenCV/Pillow, never torch.

``photo -> mask -> crop -> attributes with scores`` plus a quality gate:

1. decode safely (:mod:`.imageio`); grayscale images are refused (colour is the point);
2. pass 1: the whole photo, letterboxed to the model size -> tongue mask (largest component);
3. quality gate (:mod:`.quality`): no tongue / too small / exposure / blur -> message, no attributes;
4. pass 2: the tongue's bounding box (+15% margin) is run again when the tongue fills
   less than half of the frame, so the attribute heads see a tongue crop like their
   training images; its mask is pasted back into the box;
5. attributes = softmax of the attribute logits (value = most likely class, score = its probability).

The model directory (``models/tongue``) holds ``tongue.int8.onnx``, ``tongue.json``
and ``SHA256SUMS``; every file is verified before loading.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tcm_desktop.artifacts import ModelError, onnx_session, verify_checksums
from tcm_desktop.config import models_dir
from tcm_desktop.tongue import quality
from tcm_desktop.tongue.imageio import Loaded, load_image, load_image_bytes
from tcm_desktop.tongue.preprocess import largest_component, letterbox, to_input, unletterbox

ARTIFACT_FILES = {"int8": "tongue.int8.onnx", "meta": "tongue.json"}
CHECKSUMS = "SHA256SUMS"
NOT_ASSESSED = ("thickness", "greasiness", "moisture")
CROP_MARGIN = 0.15
WORK_SIDE = 1024  # longer side of the working copy of large photos
SECOND_PASS_BELOW = 0.5  # run the crop pass when the tongue box covers less than this share of the image


def default_model_dir() -> Path:
    return models_dir() / "tongue"


def model_available(model_dir: str | Path | None = None) -> bool:
    d = Path(model_dir) if model_dir else default_model_dir()
    return (d / ARTIFACT_FILES["int8"]).exists() and (d / ARTIFACT_FILES["meta"]).exists() and (d / CHECKSUMS).exists()


@dataclass
class TongueAnalysis:
    """One photo's analysis with the pixels it refers to (what a viewer needs to draw the outline).

    ``result`` is the dict :func:`analyse_images` documents; ``rgb`` is the decoded photo (EXIF
    rotation applied) at the working resolution the model saw, ``mask`` the boolean tongue mask at
    the same size. Both are None when the photo could not be decoded or the analysis failed; the
    mask is all False when no tongue was found.
    """

    result: dict
    rgb: np.ndarray | None = None
    mask: np.ndarray | None = None

    def outline(self) -> list[np.ndarray]:
        """The tongue's outline as polygons in ``rgb`` pixel coordinates (see :func:`mask_outline`)."""
        return mask_outline(self.mask) if self.mask is not None else []


def mask_outline(mask: np.ndarray, min_area_frac: float = 0.001) -> list[np.ndarray]:
    """Outer contours of a boolean mask as ``int32`` arrays of shape (N, 2) holding (x, y) points.

    Uses ``cv2.findContours`` (external contours only, simplified); contours enclosing less
    than ``min_area_frac`` of the image are dropped. Empty list for an empty mask.
    """
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if m.ndim != 2 or not m.any():
        return []
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = min_area_frac * m.shape[0] * m.shape[1]
    return [c.reshape(-1, 2).astype(np.int32) for c in contours if len(c) >= 3 and cv2.contourArea(c) >= min_area]


def working_copy(rgb: np.ndarray) -> np.ndarray:
    """The photo scaled down so its longer side is at most ``WORK_SIDE`` (unchanged when smaller)."""
    if max(rgb.shape[:2]) <= WORK_SIDE:
        return rgb
    s = WORK_SIDE / max(rgb.shape[:2])
    return cv2.resize(rgb, (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s))), interpolation=cv2.INTER_AREA)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


class TongueEngine:
    """Loads the tongue model once; :meth:`analyse` turns an RGB photo into a result."""

    def __init__(self, model_dir: str | Path | None = None, threads: int | None = None, onnx_name: str | None = None) -> None:

        self.dir = Path(model_dir) if model_dir else default_model_dir()
        if not self.dir.is_dir():
            raise ModelError(f"tongue model directory not found: {self.dir} (train and export it: see docs/tongue.md)")
        verify_checksums(self.dir)
        try:
            self.meta = json.loads((self.dir / ARTIFACT_FILES["meta"]).read_text(encoding="utf-8"))
            self.size = int(self.meta["size"])
            self.attributes: list[str] = list(self.meta["attributes"])
            self.classes: dict[str, list[str]] = {k: list(v) for k, v in self.meta["classes"].items()}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read tongue model metadata in {self.dir}: {exc}") from exc
        path = self.dir / (onnx_name or ARTIFACT_FILES["int8"])
        self.session = onnx_session(path, threads, mem_pattern=False)
        self._lock = threading.Lock()

    # -- model ---------------------------------------------------------------
    def _run(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RGB image -> (tongue probability at the image's size, attribute logits 4 x 3)."""
        sq, box = letterbox(rgb, self.size)
        with self._lock:
            lg, at = self.session.run(None, {"image": to_input(sq)})
        prob = 1.0 / (1.0 + np.exp(-lg[0, 0]))
        return unletterbox(prob, box), at[0]

    # -- pipeline ------------------------------------------------------------
    def analyse_rgb(self, rgb: np.ndarray, grayscale: bool = False) -> tuple[dict, np.ndarray]:
        """Returns (result without id, boolean mask at the size of ``rgb``)."""
        h, w = rgb.shape[:2]
        empty = np.zeros((h, w), bool)
        if grayscale:
            return self._result(False, "grayscale image: tongue and coating colours cannot be assessed; use a colour photo",
                                reason="grayscale"), empty
        prob, logits = self._run(rgb)
        mask = largest_component(prob > 0.5)
        mean_prob = float(prob[mask].mean()) if mask.any() else 0.0
        q = quality.check(rgb, mask, mean_prob, likeness=True)
        if "bbox" in q.measures and q.ok:
            x0, y0, x1, y1 = q.measures["bbox"]
            if (x1 - x0) * (y1 - y0) < SECOND_PASS_BELOW * w * h:
                mx, my = int(CROP_MARGIN * (x1 - x0)), int(CROP_MARGIN * (y1 - y0))
                cx0, cy0, cx1, cy1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
                p2, logits = self._run(rgb[cy0:cy1, cx0:cx1])
                prob2 = np.zeros_like(prob)
                prob2[cy0:cy1, cx0:cx1] = p2
                m2 = largest_component(prob2 > 0.5)
                if m2.sum() > 0.5 * mask.sum():
                    mask = m2
        if not q.ok:
            if "bbox" not in q.measures:  # no tongue: write an empty mask
                mask = empty
            res = self._result(False, q.message, reason=q.reason)
        else:
            res = self._result(True, None, logits)
        res["quality"] = q.measures
        return res, mask

    def _result(self, ok: bool, message: str | None, logits: np.ndarray | None = None, reason: str | None = None) -> dict:
        attrs = {}
        if ok and logits is not None:
            for k, a in enumerate(self.attributes):
                p = _softmax(logits[k].astype(np.float64))
                j = int(p.argmax())
                attrs[a] = {"value": self.classes[a][j], "score": round(float(p[j]), 3),
                            "probabilities": {c: round(float(v), 3) for c, v in zip(self.classes[a], p)}}
        return {"ok": ok, "message": message, "reason": None if ok else reason, "attributes": attrs,
                "not_assessed": list(NOT_ASSESSED)}

    def analyse_loaded(self, loaded: Loaded, image_id: str) -> TongueAnalysis:
        """Analyse a decoded image (:func:`.imageio.load_image` / :func:`.imageio.load_image_bytes`).

        Never raises for a bad image: an undecodable one gives ``ok: False`` with the loader's
        message (reason ``unreadable``), an unexpected failure ``ok: False`` (reason ``failed``).
        The photo is analysed at a working resolution (longer side <= ``WORK_SIDE``).
        """
        if loaded.rgb is None:
            return TongueAnalysis({"id": image_id, **self._result(False, loaded.message, reason="unreadable")})
        rgb = working_copy(loaded.rgb)
        try:
            res, mask = self.analyse_rgb(rgb, grayscale=loaded.grayscale)
        except Exception as exc:  # noqa: BLE001 - a bad image must never crash a batch
            return TongueAnalysis({"id": image_id, **self._result(
                False, f"analysis failed: {type(exc).__name__}: {str(exc)[:200]}", reason="failed")})
        return TongueAnalysis({"id": image_id, **res}, rgb, mask)

    def analyse_bytes(self, data: bytes, image_id: str = "photo") -> TongueAnalysis:
        """Analyse an encoded photo held in memory (what the desktop app holds for a record)."""
        return self.analyse_loaded(load_image_bytes(data), image_id)

    def analyse_path(self, path: str | Path, masks_dir: str | Path | None = None) -> dict:
        """Analyse one photo file; with ``masks_dir`` also write ``<stem>.png`` (0/255, the file's size)."""
        p = Path(path)
        loaded = load_image(p)
        a = self.analyse_loaded(loaded, p.stem)
        res, mask = a.result, a.mask  # mask is None when the photo could not be decoded or analysed
        if masks_dir is not None and mask is not None:
            fw, fh = loaded.size or (mask.shape[1], mask.shape[0])
            out = (mask.astype(np.uint8) * 255)
            if out.shape[:2] != (fh, fw):
                out = cv2.resize(out, (fw, fh), interpolation=cv2.INTER_LINEAR)
                out = np.where(out >= 128, 255, 0).astype(np.uint8)
            d = Path(masks_dir)
            d.mkdir(parents=True, exist_ok=True)
            ok, buf = cv2.imencode(".png", out)
            if ok:
                (d / f"{p.stem}.png").write_bytes(buf.tobytes())
        return res


_ENGINES: dict[str, TongueEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(model_dir: str | Path | None = None) -> TongueEngine:
    """The shared engine for a model directory, loaded on first use (thread-safe: loads once).

    Raises :class:`ModelError` when the model is missing or corrupt.
    """
    key = str(Path(model_dir) if model_dir else default_model_dir())
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = TongueEngine(key)
        return _ENGINES[key]


def analyse_images(paths: Iterable[str | Path], masks_dir: str | Path | None = None, model_dir: str | Path | None = None) -> list[dict]:
    """Analyse tongue photos. One dict per path:

    ``{"id": stem, "ok": bool, "message": str|None, "reason": str|None, "attributes": {attr: {"value", "score",
    "probabilities"}}, "not_assessed": [...], "quality": {...}}`` (``reason``: why a photo was refused, one of
    :data:`.quality.REASONS`, None when ok); ``masks_dir/<stem>.png`` (0/255, the input's size) is
    written for every image that could be decoded. Raises :class:`ModelError` only when the model
    itself is missing or corrupt; bad images give ``ok: False`` and a message.
    """
    eng = get_engine(model_dir)
    return [eng.analyse_path(p, masks_dir) for p in paths]
