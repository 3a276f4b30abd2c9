"""A hand-counted toy clinic for the insights tests (five records, N = 5).

Present items per record (what must count):
  r1: 头痛 恶寒 风寒束表证 荆防败毒散 荆芥 防风           (发热 absent)
  r2: 头痛 恶寒 风寒束表证 荆防败毒散 荆芥 防风 甘草     (syndrome written 风寒束表, herb 炙甘草)
  r3: 头痛 发热 风热犯表证 感冒
  r4: 头痛                                               (发热 history, 风寒束表证 possible)
  r5: 乏力 恶寒                                          (风热犯表证 family)
Counts: 头痛 4, 恶寒 3, 发热 1, 风寒束表证 2, 风热犯表证 1, 荆防败毒散 2.
"""

from __future__ import annotations

from pathlib import Path

from tcm_desktop.records.database import Database
from tcm_desktop.structured import FoundEntity, StructuredRecord


def _rec(rid: str, ents: list[tuple[str, str, str, dict]], status: str = "unreviewed") -> StructuredRecord:
    text, out = "", []
    for label, written, assertion, norm in ents:
        start = len(text)
        text += written + "，"
        out.append(FoundEntity(start, start + len(written), label, written, assertion, 1.0, dict(norm), status))
    return StructuredRecord(rid, text, out)


P, A, H, F, Q = "present", "absent", "history", "family", "possible"

TOY = [
    _rec("r1", [("SYMPTOM", "头痛", P, {}), ("SYMPTOM", "恶寒", P, {}), ("SYMPTOM", "发热", A, {}),
                ("SYNDROME", "风寒束表证", P, {"standard": "风寒束表证"}), ("FORMULA", "荆防败毒散", P, {}),
                ("HERB", "荆芥", P, {"canonical": "荆芥"}), ("HERB", "防风", P, {"canonical": "防风"})], "accepted"),
    _rec("r2", [("SYMPTOM", "头痛", P, {}), ("SYMPTOM", "恶寒", P, {}),
                ("SYNDROME", "风寒束表", P, {"standard": "风寒束表证"}), ("FORMULA", "荆防败毒散", P, {}),
                ("HERB", "荆芥", P, {"canonical": "荆芥"}), ("HERB", "防风", P, {"canonical": "防风"}),
                ("HERB", "炙甘草", P, {"canonical": "甘草", "processing": "炙"})], "corrected"),
    _rec("r3", [("SYMPTOM", "头痛", P, {}), ("SYMPTOM", "发热", P, {}),
                ("SYNDROME", "风热犯表证", P, {"standard": "风热犯表证"}), ("TCM_DISEASE", "感冒", P, {})]),
    _rec("r4", [("SYMPTOM", "头痛", P, {}), ("SYMPTOM", "发热", H, {}),
                ("SYNDROME", "风寒束表证", Q, {"standard": "风寒束表证"})]),
    _rec("r5", [("SYMPTOM", "乏力", P, {}), ("SYMPTOM", "恶寒", P, {}),
                ("SYNDROME", "风热犯表证", F, {"standard": "风热犯表证"})]),
]


def make_toy_db(path: Path) -> Path:
    """The toy records; r1 first gets an older version with 咳嗽 that must not count (latest versions only)."""
    with Database(path) as db:
        db.save_record(_rec("r1", [("SYMPTOM", "咳嗽", P, {}), ("SYNDROME", "风寒束表证", P, {"standard": "风寒束表证"})]))
        for r in TOY:
            db.save_record(StructuredRecord.from_dict(r.to_dict()))
    return path


def formula_record() -> StructuredRecord:
    """补阳还五汤 without 红花, plus 全蝎: against the shipped table, 加 全蝎；减 红花."""
    from tcm_desktop.structured import Prescription, PrescriptionItem

    text = "处方：补阳还五汤加减：黄芪30g，当归10g，赤芍10g，川芎10g，地龙10g，桃仁10g，全蝎3g。"
    herbs = ["黄芪", "当归", "赤芍", "川芎", "地龙", "桃仁", "全蝎"]
    ents = [FoundEntity(3, 8, "FORMULA", "补阳还五汤")]
    items = []
    for h in herbs:
        s = text.index(h)
        ents.append(FoundEntity(s, s + len(h), "HERB", h, normalized={"canonical": h}))
        items.append(PrescriptionItem(h, h, entity_start=s))
    return StructuredRecord("rx1", text, ents, prescription=Prescription(formula=["补阳还五汤"], items=items))
