"""The shipped text model at run time: onnxruntime emissions + numpy Viterbi.

Loads ``models/ner`` once: the INT8 ONNX emission network, ``model.json``
(tags, CRF transitions, vocabulary, window length), ``lexicon.json`` (the term
lists, built into the artifact by the training run) and checks every file
against ``SHA256SUMS`` so a corrupt or partial install fails with a clear
message naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tcm_desktop.artifacts import ModelError, onnx_session, verify_checksums
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.text.tagging import MODEL_CHARS, SpanDecoder, crf_decode

ARTIFACT_FILES = {
    "int8": "model.int8.onnx",
    "meta": "model.json",
    "lexicon": "lexicon.json",
    "normalization": "normalization.json",
}
@dataclass
class Window:
    """A piece of a text fed to the model: which text, where it starts, its ids and features."""

    text_index: int
    offset: int
    ids: np.ndarray
    lex: np.ndarray


class NerRuntime:
    """Emission network + CRF decoding, no torch."""

    def __init__(self, model_dir: str | Path, threads: int | None = None, precision: str = "int8") -> None:

        self.dir = Path(model_dir)
        if not self.dir.is_dir():
            raise ModelError(f"model directory not found: {self.dir}")
        verify_checksums(self.dir)
        try:
            meta = json.loads((self.dir / ARTIFACT_FILES["meta"]).read_text(encoding="utf-8"))
            self.lexicon = Lexicon.load(self.dir / ARTIFACT_FILES["lexicon"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read model metadata in {self.dir}: {exc}") from exc
        self.meta = meta
        self.version: str = meta["version"]
        self.tags: list[str] = meta["tags"]
        self.transitions = np.asarray(meta["transitions"], np.float32)
        self.start = np.asarray(meta["start"], np.float32)
        self.end = np.asarray(meta["end"], np.float32)
        self.max_len: int = int(meta["max_len"])
        self.n_lex: int = int(meta["n_lex"])
        self.stoi = {c: i for i, c in enumerate(meta["vocab"])}
        self.spans = SpanDecoder(self.tags)
        onnx_name = ARTIFACT_FILES["int8"] if precision == "int8" else "model.fp32.onnx"
        self.session = onnx_session(self.dir / onnx_name, threads, mem_pattern=False, arena=False)

    def encode(self, text: str) -> np.ndarray:
        get = self.stoi.get
        return np.fromiter((get(c, 1) for c in text.translate(MODEL_CHARS)), dtype=np.int64, count=len(text))

    def features(self, text: str) -> np.ndarray:
        if not self.n_lex:
            return np.zeros((len(text), 0), np.uint8)
        return self.lexicon.features(text)

    def window_features(self, text: str, start: int, end: int) -> np.ndarray:
        """``features(text)[start:end]`` without matching the whole text: every
        lexicon word touching the window lies within ``max_len - 1`` characters of it."""
        margin = self.lexicon.max_len - 1
        a = max(0, start - margin)
        return self.features(text[a : end + margin])[start - a : end - a]

    def emissions(self, batch: Sequence[Window]) -> list[np.ndarray]:
        """Run one padded batch; return each window's ``[len, K]`` emissions."""
        t = max(len(w.ids) for w in batch)
        t = max(t, 2)
        ids = np.zeros((len(batch), t), np.int64)
        lex = np.zeros((len(batch), t, self.n_lex), np.float32)
        mask = np.zeros((len(batch), t), bool)
        for i, w in enumerate(batch):
            n = len(w.ids)
            ids[i, :n] = w.ids
            if self.n_lex:
                lex[i, :n] = w.lex
            mask[i, :n] = True
        out = self.session.run(None, {"ids": ids, "lex": lex, "mask": mask})[0]
        return [out[i, : len(w.ids)] for i, w in enumerate(batch)]

    def decode_many(self, emissions: Sequence[np.ndarray]) -> list[list[tuple[int, int, str, float]]]:
        """Viterbi spans per window, each with a confidence: the lowest CRF marginal
        probability of its characters' tags (forward-backward, batched)."""
        if not emissions:
            return []
        t = max(len(e) for e in emissions)
        k = len(self.tags)
        batch = np.zeros((len(emissions), max(t, 1), k), np.float32)
        for i, e in enumerate(emissions):
            batch[i, : len(e)] = e
        lengths = np.array([len(e) for e in emissions])
        paths, confs = crf_decode(batch, lengths, self.transitions, self.start, self.end)
        return self.spans(paths, confs, lengths)
