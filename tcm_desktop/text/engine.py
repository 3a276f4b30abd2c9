"""The structuring engine: free text in, a :class:`StructuredRecord` out.

Qt-free and torch-free (onnxruntime + numpy). The GUI, the CLI and batch jobs
all call it. Steps for a batch of records:

1. normalise each text (half-width, whitespace) keeping a map to the original
   offsets (:mod:`tcm_desktop.text.charnorm`);
2. cut it into model windows: core pieces at sentence boundaries plus
   ``context`` characters of overlap on each side, up to the model's length;
3. dynamic batch pruning: sort every window of the chunk by length and batch
   under a token budget (:mod:`tcm_desktop.text.batching`), so padding is pruned
   and the network's activations stay bounded whatever the record lengths;
   run the INT8 model; decode the emissions of several network batches in one
   vectorised Viterbi/forward-backward pass (numpy's per-step cost is paid
   per decode group, not per network batch);
4. keep a window's spans that start in its core, resolve the rare overlaps
   between neighbours (higher confidence wins), map back to the original text;
5. assertions, sections, normalisation, prescription (rule modules).

Memory stays bounded whatever the input: records are taken in chunks of at
most ``chunk`` records and ``chunk_chars`` characters, lexicon features and ids
of a record longer than ``window_features_above`` are built per window as its
batch runs (never for the whole record), and emissions live only until their
decode group is decoded.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tcm_desktop.artifacts import ModelError
from tcm_desktop.config import models_dir
from tcm_desktop.schema import trim_span
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.batching import length_bucketed, naive_batches
from tcm_desktop.text.charnorm import normalize
from tcm_desktop.text.clinic_dictionary import ClinicDictionary
from tcm_desktop.text.conventions import Span, apply_conventions
from tcm_desktop.text.derive import rederive
from tcm_desktop.text.runtime import ARTIFACT_FILES, NerRuntime, Window
from tcm_desktop.text.script import model_text
from tcm_desktop.text.tagging import BREAKS, SOFT_BREAKS
from tcm_desktop.text.templates import with_template_findings
from tcm_desktop.text.values import Normalizer

__all__ = ["StructuringEngine", "ModelError", "EngineError"]



class EngineError(ValueError):
    """A record the engine cannot structure (e.g. empty text)."""


@dataclass
class _Piece:
    record: int
    core_start: int
    core_end: int
    start: int  # the window: core plus context
    end: int


#: Batching strategies the benchmark compares: ``pruned`` is the engine's.
BATCHING = ("pruned", "fixed", "record")


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


def conventional(text: str, entities: list[FoundEntity]) -> list[FoundEntity]:
    """The model's spans after the guidelines' mechanical conventions; a new span keeps its sources' lowest score."""
    spans, changes = apply_conventions(text, [Span(e.start, e.end, e.label) for e in entities])
    if not changes:
        return entities
    by_span = {(e.start, e.end, e.label): e for e in entities}
    ordered = sorted(entities, key=lambda e: e.start)
    starts = [e.start for e in ordered]
    out = []
    for sp in spans:
        same = by_span.get(sp[:3])
        if same is None:
            lo = max(0, bisect_left(starts, sp.start) - 1)
            src = [e for e in ordered[lo:bisect_left(starts, sp.end)] if e.end > sp.start]
            same = FoundEntity(sp.start, sp.end, sp.label, text[sp.start:sp.end],
                               score=min((e.score for e in src), default=1.0))
        out.append(same)
    return out


class StructuringEngine:
    """Loads ``models/ner`` once and structures records with it."""

    def __init__(self, model_dir: str | Path | None = None, threads: int | None = None,
                 max_batch_tokens: int = 2048, context: int = 8, precision: str = "int8",
                 decode_tokens: int = 8192, chunk_chars: int = 32768, window_features_above: int = 8192,
                 dictionary: ClinicDictionary | None = None, conventions: bool = True) -> None:
        directory = Path(model_dir) if model_dir else models_dir() / "ner"
        self.ner = NerRuntime(directory, threads=threads, precision=precision)
        self.version = self.ner.version
        # the clinic dictionary hook: extra lexicon terms here, its rule on the model's spans below
        self.dictionary = dictionary
        # the annotation guidelines' mechanical span rules (S3, S9) on the model's spans; off only for ablations
        self.conventions = conventions
        if dictionary is not None and dictionary.terms:
            self.ner.lexicon = self.ner.lexicon.with_extra(dictionary.pairs())
        self.max_batch_tokens = max_batch_tokens
        self.decode_tokens = decode_tokens
        self.chunk_chars = chunk_chars
        self.window_features_above = window_features_above
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
        batching: str = "pruned",
    ) -> Iterator[StructuredRecord]:
        """Structure ``(id, text)`` pairs, in order, ``chunk`` records (at most
        ``chunk_chars`` characters, or one longer record) at a time.

        ``batching`` other than ``pruned`` switches dynamic batch pruning off,
        for the benchmark's comparison only: ``fixed`` runs batches of
        ``naive_batch_size`` (default 16) windows in input order, ``record``
        runs all windows of a record as one batch. A ``naive_batch_size``
        alone means ``fixed``.
        """
        if batching not in BATCHING:
            raise ValueError(f"unknown batching {batching!r}; expected one of {BATCHING}")
        if naive_batch_size and batching == "pruned":
            batching = "fixed"
        items = list(items)
        for i, (rid, text) in enumerate(items):
            if not text or not text.strip():
                raise EngineError(f"record {rid or i}: empty text")
        done = 0
        for part in self._chunks(items, chunk):
            if should_stop and should_stop():
                return
            for rec in self._structure_chunk(part, should_stop, batching, naive_batch_size or 16):
                done += 1
                if progress:
                    progress(done, len(items))
                yield rec

    # ------------------------------------------------------------- internals

    def _chunks(self, items: list[tuple[str, str]], chunk: int) -> Iterator[list[tuple[str, str]]]:
        part: list[tuple[str, str]] = []
        chars = 0
        for item in items:
            if part and (len(part) >= chunk or chars + len(item[1]) > self.chunk_chars):
                yield part
                part, chars = [], 0
            part.append(item)
            chars += len(item[1])
        if part:
            yield part

    def _pieces(self, texts: Sequence[str]) -> list[_Piece]:
        pieces: list[_Piece] = []
        size = max(8, self.ner.max_len - 2 * self.context)
        for ri, text in enumerate(texts):
            for s, e in core_pieces(text, size):
                pieces.append(_Piece(ri, s, e, max(0, s - self.context), min(len(text), e + self.context)))
        return pieces

    def _plan(self, pieces: list[_Piece], batching: str, batch_size: int) -> list[list[int]]:
        if batching == "fixed":
            return naive_batches(len(pieces), batch_size)
        if batching == "record":
            by_record: dict[int, list[int]] = {}
            for i, p in enumerate(pieces):
                by_record.setdefault(p.record, []).append(i)
            return list(by_record.values())
        return length_bucketed(pieces, lambda p: p.end - p.start, self.max_batch_tokens)

    def _spans(self, texts: Sequence[str], should_stop, batching: str = "pruned",
               batch_size: int = 16) -> list[list[tuple[int, int, str, float]]]:
        pieces = self._pieces(texts)
        whole: dict[int, tuple] = {}  # ids and lexicon features of the chunk's shorter records
        for ri, text in enumerate(texts):
            if len(text) <= self.window_features_above:
                whole[ri] = (self.ner.encode(text), self.ner.features(text))

        def window(p: _Piece) -> Window:
            if p.record in whole:
                ids, lex = whole[p.record]
                return Window(p.record, p.start, ids[p.start : p.end], lex[p.start : p.end])
            text = texts[p.record]
            return Window(p.record, p.start, self.ner.encode(text[p.start : p.end]),
                          self.ner.window_features(text, p.start, p.end))

        found: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        group: list[int] = []
        emissions: list = []

        def decode() -> None:
            for i, decoded in zip(group, self.ner.decode_many(emissions)):
                p = pieces[i]
                for s, e, lab, conf in decoded:
                    if p.core_start <= p.start + s < p.core_end:
                        found[p.record].append((p.start + s, p.start + e, lab, conf))
            group.clear()
            emissions.clear()

        for batch in self._plan(pieces, batching, batch_size):
            if should_stop and should_stop():
                break
            emissions += self.ner.emissions([window(pieces[i]) for i in batch])
            group += batch
            if sum(len(e) for e in emissions) >= self.decode_tokens:
                decode()
        if group:
            decode()
        return [self._resolve(f) for f in found]

    @staticmethod
    def _resolve(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
        """One consistent flat span set: on overlap keep the more confident span.

        Most confident first; the kept spans stay disjoint and sorted, so one
        binary search (the kept span starting last before the candidate's end)
        tells whether a candidate overlaps any of them: O(n log n), not O(n^2).
        """
        starts: list[int] = []
        ends: list[int] = []
        kept: list[tuple[int, int, str, float]] = []
        for sp in sorted(spans, key=lambda x: (-x[3], x[0])):
            i = bisect_left(starts, sp[1])
            if i and ends[i - 1] > sp[0]:
                continue
            starts.insert(i, sp[0])
            ends.insert(i, sp[1])
            kept.append(sp)
        return sorted(kept)

    def _structure_chunk(self, part, should_stop, batching: str = "pruned", batch_size: int = 16) -> list[StructuredRecord]:
        # the model reads simplified script (same length: offsets stay the doctor's)
        norms = [normalize(model_text(text)) for _, text in part]
        spans = self._spans([n.text for n in norms], should_stop, batching, batch_size)
        out = []
        for (rid, text), norm, sp in zip(part, norms, spans):
            entities: list[FoundEntity] = []
            for s, e, lab, conf in sp:
                os_, oe = trim_span(text, *norm.to_original(s, e))
                if os_ >= oe:
                    continue
                entities.append(FoundEntity(os_, oe, lab, text[os_:oe], score=round(conf, 4)))
            if self.conventions:
                entities = conventional(text, entities)
            entities = with_template_findings(norm.original, entities)
            if self.dictionary is not None:  # proposals on the model's output only, never after the doctor's edits
                entities = sorted([*entities, *self.dictionary.propose(text, entities)], key=lambda e: e.start)
            out.append(self.finish(rid, text, entities))
        return out

    def finish(self, record_id: str, text: str, entities: list[FoundEntity]) -> StructuredRecord:
        """Rules on top of the spans: assertions, sections, normalisation, prescription.

        Also used by the GUI after the doctor corrects spans, so the structured
        view follows the corrections: the same :func:`tcm_desktop.text.derive.rederive`
        the review state and the record service call after the doctor edits the text
        or the entities. Traditional-script records are read in simplified script
        (same offsets) and answered in the doctor's script.
        """
        return rederive(record_id, text, entities, self.normalizer, self.version, keep_reviewed=False)
