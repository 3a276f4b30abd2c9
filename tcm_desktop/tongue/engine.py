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
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from ..config import models_dir
from ..ner_runtime import ModelError, sha256, verify_checksums, write_checksums  # noqa: F401 (re-exported for the export step)
from . import quality
from .imageio import load_image
from .preprocess import largest_component, letterbox, to_input, unletterbox

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


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


class TongueEngine:
    """Loads the tongue model once; :meth:`analyse` turns an RGB photo into a result."""

    def __init__(self, model_dir: str | Path | None = None, threads: int | None = None, onnx_name: str | None = None) -> None:
        import onnxruntime as ort

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
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        path = self.dir / (onnx_name or ARTIFACT_FILES["int8"])
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several exception types
            raise ModelError(f"cannot load {path}: {exc}") from exc
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
            return self._result(False, "grayscale image: tongue and coating colours cannot be assessed; use a colour photo"), empty
        prob, logits = self._run(rgb)
        mask = largest_component(prob > 0.5)
        mean_prob = float(prob[mask].mean()) if mask.any() else 0.0
        q = quality.check(rgb, mask, mean_prob)
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
            res = self._result(False, q.message)
        else:
            res = self._result(True, None, logits)
        res["quality"] = q.measures
        return res, mask

    def _result(self, ok: bool, message: str | None, logits: np.ndarray | None = None) -> dict:
        attrs = {}
        if ok and logits is not None:
            for k, a in enumerate(self.attributes):
                p = _softmax(logits[k].astype(np.float64))
                j = int(p.argmax())
                attrs[a] = {"value": self.classes[a][j], "score": round(float(p[j]), 3),
                            "probabilities": {c: round(float(v), 3) for c, v in zip(self.classes[a], p)}}
        return {"ok": ok, "message": message, "attributes": attrs, "not_assessed": list(NOT_ASSESSED)}

    def analyse_path(self, path: str | Path, masks_dir: str | Path | None = None) -> dict:
        p = Path(path)
        loaded = load_image(p)
        if loaded.rgb is None:
            return {"id": p.stem, **self._result(False, loaded.message)}
        rgb = loaded.rgb
        if max(rgb.shape[:2]) > WORK_SIDE:  # analyse at a working resolution; the mask is scaled back below
            s = WORK_SIDE / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s))), interpolation=cv2.INTER_AREA)
        try:
            res, mask = self.analyse_rgb(rgb, grayscale=loaded.grayscale)
        except Exception as exc:  # noqa: BLE001 - a bad image must never crash a batch
            res, mask = self._result(False, f"analysis failed: {type(exc).__name__}: {str(exc)[:200]}"), None
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
        return {"id": p.stem, **res}


_ENGINES: dict[str, TongueEngine] = {}


def get_engine(model_dir: str | Path | None = None) -> TongueEngine:
    key = str(Path(model_dir) if model_dir else default_model_dir())
    if key not in _ENGINES:
        _ENGINES[key] = TongueEngine(key)
    return _ENGINES[key]


def analyse_images(paths: Iterable[str | Path], masks_dir: str | Path | None = None, model_dir: str | Path | None = None) -> list[dict]:
    """Analyse tongue photos. One dict per path:

    ``{"id": stem, "ok": bool, "message": str|None, "attributes": {attr: {"value", "score", "probabilities"}},
    "not_assessed": [...], "quality": {...}}``; ``masks_dir/<stem>.png`` (0/255, the input's size) is
    written for every image that could be decoded. Raises :class:`ModelError` only when the model
    itself is missing or corrupt; bad images give ``ok: False`` and a message.
    """
    eng = get_engine(model_dir)
    return [eng.analyse_path(p, masks_dir) for p in paths]
