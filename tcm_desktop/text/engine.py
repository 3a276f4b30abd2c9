"""The structuring engine: free text in, a :class:`StructuredRecord` out.

Qt-free and torch-free (onnxruntime + numpy). The GUI, the CLI and batch jobs
all call it. Steps for a batch of records:

1. normalise each text (half-width, whitespace) keeping a map to the original
   offsets (:mod:`tcm_desktop.text.charnorm`);
2. cut it into model windows: core pieces at sentence boundaries plus
   ``context`` characters of overlap on each side, up to the model's length;
3. batch every window of every record by length under a token budget
   (:mod:`tcm_desktop.text.batching`), run the INT8 model, decode each window with
   Viterbi;
4. keep a window's spans that start in its core, resolve the rare overlaps
   between neighbours (higher confidence wins), map back to the original text;
5. assertions, sections, normalisation, prescription (rule modules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tcm_desktop.artifacts import ModelError
from tcm_desktop.config import models_dir
from tcm_desktop.schema import SPAN_EDGE_FORBIDDEN
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.assertion import assign_assertions
from tcm_desktop.text.batching import length_bucketed, naive_batches
from tcm_desktop.text.charnorm import normalize
from tcm_desktop.text.clinic_dictionary import SOURCE, SOURCE_KEY, ClinicDictionary
from tcm_desktop.text.prescription import build_prescription
from tcm_desktop.text.runtime import ARTIFACT_FILES, NerRuntime, Window
from tcm_desktop.text.sections import find_sections
from tcm_desktop.text.tagging import BREAKS, SOFT_BREAKS
from tcm_desktop.text.values import Normalizer

__all__ = ["StructuringEngine", "ModelError", "EngineError"]



class EngineError(ValueError):
    """A record the engine cannot structure (e.g. empty text)."""


@dataclass
class _Piece:
    record: int
    core_start: int
    core_end: int
    window: Window


def core_pieces(text: str, size: int) -> list[tuple[int, int]]:
    """Cut ``text`` into pieces of at most ``size`` characters, preferring sentence ends."""
    out: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        if n - start <= size:
            out.append((start, n))
            break
        cut = None
        for breaks in (BREAKS, SOFT_BREAKS):
            for j in range(start + size, start + size // 3, -1):
                if text[j - 1] in breaks:
                    cut = j
                    break
            if cut:
                break
        cut = cut or start + size
        out.append((start, cut))
        start = cut
    return out


class StructuringEngine:
    """Loads ``models/ner`` once and structures records with it."""

    def __init__(self, model_dir: str | Path | None = None, threads: int | None = None,
                 max_batch_tokens: int = 4096, context: int = 8, precision: str = "int8",
                 dictionary: ClinicDictionary | None = None) -> None:
        directory = Path(model_dir) if model_dir else models_dir() / "ner"
        self.ner = NerRuntime(directory, threads=threads, precision=precision)
        self.version = self.ner.version
        # the clinic dictionary hook: extra lexicon terms here, its rule on the model's spans below
        self.dictionary = dictionary
        if dictionary is not None and dictionary.terms:
            self.ner.lexicon = self.ner.lexicon.with_extra(dictionary.pairs())
        self.max_batch_tokens = max_batch_tokens
        self.context = context
        self.normalizer = Normalizer.from_resources(directory / ARTIFACT_FILES["normalization"])
        self.normalizer.known_herbs |= set(self.ner.lexicon.terms("HERB"))

    # ------------------------------------------------------------------ API

    def structure(self, text: str, record_id: str = "") -> StructuredRecord:
        return next(iter(self.structure_many([(record_id, text)])))

    def structure_many(
        self,
        items: Iterable[tuple[str, str]],
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        chunk: int = 64,
        naive_batch_size: int | None = None,
    ) -> Iterator[StructuredRecord]:
        """Structure ``(id, text)`` pairs, in order, ``chunk`` records at a time.

        ``naive_batch_size`` switches dynamic batch pruning off (fixed-size
        batches in input order): for the benchmark's comparison only.
        """
        items = list(items)
        for i, (rid, text) in enumerate(items):
            if not text or not text.strip():
                raise EngineError(f"record {rid or i}: empty text")
        done = 0
        for c in range(0, len(items), chunk):
            if should_stop and should_stop():
                return
            part = items[c : c + chunk]
            for rec in self._structure_chunk(part, should_stop, naive_batch_size):
                done += 1
                if progress:
                    progress(done, len(items))
                yield rec

    # ------------------------------------------------------------- internals

    def _windows(self, texts: Sequence[str]) -> list[_Piece]:
        pieces: list[_Piece] = []
        size = max(8, self.ner.max_len - 2 * self.context)
        for ri, text in enumerate(texts):
            ids = self.ner.encode(text)
            lex = self.ner.features(text)
            for s, e in core_pieces(text, size):
                ws = max(0, s - self.context)
                we = min(len(text), e + self.context)
                pieces.append(_Piece(ri, s, e, Window(ri, ws, ids[ws:we], lex[ws:we])))
        return pieces

    def _spans(self, texts: Sequence[str], should_stop, naive_batch_size) -> list[list[tuple[int, int, str, float]]]:
        pieces = self._windows(texts)
        if naive_batch_size:
            plan = naive_batches(len(pieces), naive_batch_size)
        else:
            plan = length_bucketed(pieces, lambda p: len(p.window.ids), self.max_batch_tokens)
        found: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        for batch in plan:
            if should_stop and should_stop():
                break
            ems = self.ner.emissions([pieces[i].window for i in batch])
            for i, decoded in zip(batch, self.ner.decode_many(ems)):
                p = pieces[i]
                off = p.window.offset
                for s, e, lab, conf in decoded:
                    if p.core_start <= off + s < p.core_end:
                        found[p.record].append((off + s, off + e, lab, conf))
        return [self._resolve(f) for f in found]

    @staticmethod
    def _resolve(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
        """One consistent flat span set: on overlap keep the more confident span."""
        kept: list[tuple[int, int, str, float]] = []
        for sp in sorted(spans, key=lambda x: (-x[3], x[0])):
            if all(sp[1] <= k[0] or k[1] <= sp[0] for k in kept):
                kept.append(sp)
        return sorted(kept)

    def _structure_chunk(self, part, should_stop, naive_batch_size) -> list[StructuredRecord]:
        norms = [normalize(text) for _, text in part]
        spans = self._spans([n.text for n in norms], should_stop, naive_batch_size)
        out = []
        for (rid, text), norm, sp in zip(part, norms, spans):
            entities: list[FoundEntity] = []
            for s, e, lab, conf in sp:
                os_, oe = norm.to_original(s, e)
                while os_ < oe and text[os_] in SPAN_EDGE_FORBIDDEN:
                    os_ += 1
                while oe > os_ and text[oe - 1] in SPAN_EDGE_FORBIDDEN:
                    oe -= 1
                if os_ >= oe:
                    continue
                entities.append(FoundEntity(os_, oe, lab, text[os_:oe], score=round(conf, 4)))
            if self.dictionary is not None:  # proposals on the model's output only, never after the doctor's edits
                entities = sorted([*entities, *self.dictionary.propose(text, entities)], key=lambda e: e.start)
            out.append(self.finish(rid, text, entities))
        return out

    def finish(self, record_id: str, text: str, entities: list[FoundEntity]) -> StructuredRecord:
        """Rules on top of the spans: assertions, sections, normalisation, prescription.

        Also used by the GUI after the doctor corrects spans, so the structured
        view follows the corrections.
        """
        assign_assertions(text, entities)
        for e in entities:
            keep = {SOURCE_KEY: SOURCE} if e.normalized.get(SOURCE_KEY) == SOURCE else {}
            e.normalized = {**self.normalizer.normalize_entity(e), **keep}
        sections = find_sections(text)
        rx = build_prescription(text, entities, self.normalizer, sections)
        return StructuredRecord(record_id, text, entities, sections, rx, self.version)

