"""The tongue photo's state machine without Qt: newest photo wins, refusals, stored analyses, the record."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcm_desktop.structured import FoundEntity
from tcm_desktop.tongue.session import TongueSession

OK_RESULT = {
    "ok": True,
    "attributes": {"body_colour": {"value": "regular", "score": 0.9}, "coating_colour": {"value": "yellow", "score": 0.8},
                   "fissure": {"value": "none", "score": 0.9}, "tooth_marks": {"value": "light", "score": 0.7}},
}


@dataclass
class FakeAnalysis:
    result: dict
    rgb: np.ndarray | None = field(default_factory=lambda: np.zeros((4, 4, 3), np.uint8))
    mask: np.ndarray | None = None

    def outline(self) -> list[np.ndarray]:
        return [np.array([[0, 0], [3, 0], [3, 3]])]


def test_a_slower_older_analysis_never_overwrites_a_newer_photo() -> None:
    s = TongueSession()
    first = s.set_photo(b"photo-1")
    second = s.set_photo(b"photo-2")
    assert not s.accept({"generation": first, "analysis": FakeAnalysis(OK_RESULT)})
    assert s.state == "analysing" and s.result is None
    assert s.accept({"generation": second, "analysis": FakeAnalysis(OK_RESULT), "model_version": "t1"})
    assert s.state == "done" and s.model_version == "t1" and s.outline and s.status() == "result"


def test_a_refused_photo_has_no_outline_and_no_findings() -> None:
    s = TongueSession()
    g = s.set_photo(b"wall")
    assert s.accept({"generation": g, "analysis": FakeAnalysis({"ok": False, "reason": "no_tongue"})})
    assert s.outline == [] and not s.findings_ok and s.status() == "refused" and s.suggested_text == ""


def test_a_stored_analysis_stays_when_the_model_is_missing_or_fails() -> None:
    s = TongueSession()
    s.set_photo(b"photo", stored=OK_RESULT)
    s.model_missing()
    assert s.status() == "result_model_missing" and s.analysis is not None
    g = s.set_photo(b"photo")
    assert s.accept({"generation": g, "error": "model file corrupt"})
    assert s.status() == "failed" and s.model_error == "model file corrupt"


def test_the_record_decides_between_comparing_and_suggesting() -> None:
    s = TongueSession()
    g = s.set_photo(b"photo")
    s.accept({"generation": g, "analysis": FakeAnalysis(OK_RESULT)})
    s.set_record([], "患者咳嗽。")
    assert s.offers_text and not s.compares_with_record and s.suggested_text.startswith("舌淡红")
    s.record_text = "患者咳嗽。" + s.suggested_text
    assert s.text_inserted
    s.set_record([FoundEntity(0, 3, "TONGUE", "舌质红")], "舌质红，苔白。")
    assert s.compares_with_record and not s.offers_text
    assert any("舌色" in d for d in s.disagreements)


def test_clearing_forgets_the_photo_and_drops_its_late_result() -> None:
    s = TongueSession()
    g = s.set_photo(b"photo")
    s.clear()
    assert not s.accept({"generation": g, "analysis": FakeAnalysis(OK_RESULT)})
    assert s.status() == "no_photo" and s.analysis is None
