"""Hand-built StructuredRecords and a scripted fake engine for the desktop tests.

The app's tests must not depend on the trained model for storage, reports,
exports and widget behaviour; this builds the spec's annotated example record
as the engine would return it, and a fake engine with the engine's API whose
speed and failures the tests control.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from tcm_desktop.structured import FoundEntity, Prescription, PrescriptionItem, Section, StructuredRecord
from tcm_desktop.text.markup import parse_markup

SAMPLE_MARKUP = (
    "主诉：反复[胃脘胀痛|SYMPTOM][3年|TIME]，加重[1周|TIME]。\n"
    "现病史：患者[3年前|TIME]因[饮食不节|CAUSE]出现[胃脘胀痛|SYMPTOM]，[嗳气|SYMPTOM]，[纳差|SYMPTOM]，无[反酸|SYMPTOM:absent]。\n"
    "[胃镜|EXAM]示：[慢性浅表性胃炎|EXAM_RESULT]。既往[高血压|WM_DISEASE:history]病史。\n"
    "舌脉：[舌淡红|TONGUE]，[边有齿痕|TONGUE]，[苔薄白|COATING]，[脉弦细|PULSE]。\n"
    "诊断：[胃脘痛|TCM_DISEASE]（[肝郁脾虚证|SYNDROME]）；[慢性胃炎|WM_DISEASE]。\n"
    "治法：[疏肝健脾|TREATMENT]，[理气止痛|TREATMENT]。\n"
    "处方：[柴胡疏肝散|FORMULA]加减：[柴胡|HERB][10g|DOSAGE]，[白芍|HERB][15g|DOSAGE]，[炙甘草|HERB][6g|DOSAGE]。"
    "[7剂|DOSAGE]，[水煎服|USAGE]，[日一剂|USAGE]。"
)

SAMPLE_TEXT, _SAMPLE_ENTITIES = parse_markup(SAMPLE_MARKUP, "sample")

_CANONICAL = {"炙甘草": "甘草"}


def sample_record(record_id: str = "", text: str | None = None) -> StructuredRecord:
    """The spec's annotated record as a StructuredRecord (entities, sections, prescription)."""
    if text is not None and text != SAMPLE_TEXT:
        return _lexicon_record(record_id, text)
    t = SAMPLE_TEXT
    ents = []
    for i, e in enumerate(_SAMPLE_ENTITIES):
        span = t[e.start : e.end]
        norm = {"canonical": _CANONICAL.get(span, span)} if e.label in ("HERB", "SYMPTOM", "FORMULA") else {}
        ents.append(FoundEntity(e.start, e.end, e.label, span, e.assertion, round(0.99 - 0.013 * i, 3), norm))
    sections = []
    for key, title in (("chief_complaint", "主诉"), ("history", "现病史"), ("tongue_pulse", "舌脉"),
                       ("diagnosis", "诊断"), ("treatment", "治法"), ("prescription", "处方")):
        s = t.index(title + "：")
        end = t.find("\n", s)
        sections.append(Section(key, title, s + len(title) + 1, len(t) if end < 0 else end))
    items = []
    herbs = [e for e in ents if e.label == "HERB"]
    for h in herbs:
        dose = next(e for e in ents if e.label == "DOSAGE" and e.start == h.end)
        amount = float(dose.text.rstrip("g"))
        items.append(PrescriptionItem(h.text, _CANONICAL.get(h.text, h.text), "炙" if h.text.startswith("炙") else "",
                                      dose.text, amount, "g", "", h.start))
    presc = Prescription(formula=["柴胡疏肝散"], items=items, doses="7剂", usage=["水煎服", "日一剂"])
    return StructuredRecord(record_id, t, ents, sections, presc, model_version="fake-1")


def _lexicon_record(record_id: str, text: str) -> StructuredRecord:
    """For arbitrary text: mark every occurrence of the sample's entity strings (a tiny lexicon engine)."""
    lexicon: dict[str, tuple[str, str]] = {}
    for e in _SAMPLE_ENTITIES:
        lexicon.setdefault(SAMPLE_TEXT[e.start : e.end], (e.label, "present"))
    ents: list[FoundEntity] = []
    taken = [False] * len(text)
    for word in sorted(lexicon, key=len, reverse=True):
        i = text.find(word)
        while i >= 0:
            if not any(taken[i : i + len(word)]):
                label, assertion = lexicon[word]
                if i > 0 and text[i - 1] == "无":
                    assertion = "absent"
                ents.append(FoundEntity(i, i + len(word), label, word, assertion, 0.9))
                for k in range(i, i + len(word)):
                    taken[k] = True
            i = text.find(word, i + 1)
    ents.sort(key=lambda e: e.start)
    return StructuredRecord(record_id, text, ents, model_version="fake-1")


class FakeEngine:
    """The engine's API with controllable delay and failure (thread-safe enough for the tests)."""

    version = "fake-1"

    def __init__(self, delay: float = 0.0, fail: str | None = None) -> None:
        self.delay = delay
        self.fail = fail
        self.calls = 0
        self.threads: list[str] = []
        self._lock = threading.Lock()

    def structure(self, text: str, record_id: str = "") -> StructuredRecord:
        with self._lock:
            self.calls += 1
            self.threads.append(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RuntimeError(self.fail)
        return sample_record(record_id, text)

    def structure_many(
        self,
        items: Iterable[tuple[str, str]],
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[StructuredRecord]:
        items = list(items)
        for i, (rid, text) in enumerate(items):
            if should_stop and should_stop():
                return
            yield self.structure(text, rid)
            if progress:
                progress(i + 1, len(items))


class FrameCamera:
    """A camera that always delivers ``frame`` (BGR, as OpenCV does); subclasses set the frame."""

    frame = None

    def __init__(self, device: int) -> None:
        self.device = device

    def isOpened(self) -> bool:
        return True

    def read(self):
        return True, self.frame.copy()

    def release(self) -> None:
        pass


class CliStdin(io.StringIO):
    """Standard input for ``cli.main`` in tests: text with a ``buffer`` of bytes, as a real stdin has."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__()
        self.buffer = io.BytesIO(data)


def run_cli(args: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """``tcm-desktop ARGS`` in-process: (exit status, stdout, stderr)."""
    from tcm_desktop.cli import main

    out, err = io.StringIO(), io.StringIO()
    rc = main(args, stdout=out, stderr=err, stdin=CliStdin(stdin))
    return rc, out.getvalue(), err.getvalue()
