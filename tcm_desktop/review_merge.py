"""Re-analysis that keeps the doctor's decisions: merge fresh model output into a reviewed entity list.

Why its own Qt-free module: the same rule serves the app (Ctrl+Enter on a
reviewed record), ``tcm-desktop db reanalyse`` (an adapted model over saved
records) and imports that meet a reviewed record, and it is clinical
behaviour: a doctor's accepted, corrected or added entity is documentation
and must never be replaced by a model's guess.

The rule: reviewed entities (status ``accepted``, ``corrected``, ``added``)
are kept exactly; the old unreviewed suggestions are replaced by the fresh
ones; a fresh suggestion is added only where it touches (overlaps) no
reviewed entity and no suggestion the doctor deleted. Fresh suggestions come
in as ``unreviewed``. Offsets must refer to the same text.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tcm_desktop.structured import FoundEntity, StructuredRecord

REVIEWED_STATUSES = frozenset({"accepted", "corrected", "added"})


@dataclass(frozen=True)
class MergeResult:
    """The merged entities (sorted, non-overlapping) and what happened."""

    entities: list[FoundEntity]
    kept: int  # reviewed entities kept exactly
    suggested: int  # fresh suggestions added
    skipped: int  # fresh suggestions left out because they touch a reviewed or deleted span


def _overlaps(a: FoundEntity, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a.start < e and s < a.end for s, e in spans)


def merge_reanalysis(current: Iterable[FoundEntity], deleted: Iterable[FoundEntity],
                     fresh: Iterable[FoundEntity]) -> MergeResult:
    """Reviewed entities of ``current`` stay; ``fresh`` suggestions fill the rest (see the module docstring)."""
    reviewed = [e for e in current if e.status in REVIEWED_STATUSES]
    blocked = [(e.start, e.end) for e in reviewed] + [(e.start, e.end) for e in deleted]
    out = list(reviewed)
    taken: list[tuple[int, int]] = []
    suggested = skipped = 0
    for f in sorted(fresh, key=lambda e: (e.start, e.end)):
        if f.start >= f.end or _overlaps(f, blocked) or _overlaps(f, taken):
            skipped += 1
            continue
        out.append(f if f.status == "unreviewed" else replace(f, status="unreviewed"))
        taken.append((f.start, f.end))
        suggested += 1
    out.sort(key=lambda e: (e.start, e.end))
    return MergeResult(out, len(reviewed), suggested, skipped)


def merge_record(saved: StructuredRecord, fresh: StructuredRecord) -> tuple[StructuredRecord, MergeResult]:
    """A saved (possibly reviewed) record updated with a fresh analysis of the same text.

    The fresh record provides sections, prescription and model version; the
    entities are merged; the deleted suggestions and the tongue analysis of
    the saved record are carried over.
    """
    if saved.text != fresh.text:
        raise ValueError(f"record {saved.id}: the fresh analysis is of a different text")
    merged = merge_reanalysis(saved.entities, saved.deleted, fresh.entities)
    out = StructuredRecord(saved.id, saved.text, merged.entities, fresh.sections, fresh.prescription,
                           fresh.model_version, saved.tongue, list(saved.deleted))
    return out, merged


def reanalyse_saved(db: Any, engine: Any, ids: Sequence[str] | None = None, user: str = ""
                    ) -> Generator[dict[str, Any], None, dict[str, int]]:
    """Re-run ``engine`` over saved records and save a merged new version where anything changed.

    ``db`` is a :class:`tcm_desktop.records.database.Database`; ``ids`` the records (default: all).
    Yields one summary dict per record (id, kept, suggested, skipped, version or None when unchanged)
    and returns the totals. Every reviewed entity of a record is saved exactly as it was.
    """
    ids = list(ids) if ids else [h.record_id for h in db.history(limit=10**9)]
    totals = {"records": 0, "saved": 0, "kept": 0, "suggested": 0}
    for rid in ids:
        saved = db.load_record(rid)
        fresh = engine.structure(saved.text, rid)
        out, merged = merge_record(saved, fresh)
        changed = [e.to_dict() for e in out.entities] != [e.to_dict() for e in saved.entities] or \
            out.model_version != saved.model_version
        version = None
        if changed:
            action = {"action": "reanalyse", "before": {"model_version": saved.model_version},
                      "after": {"model_version": fresh.model_version, "kept": merged.kept,
                                "suggested": merged.suggested, "skipped": merged.skipped}}
            info = db.record_info(rid) or {}
            _, version = db.save_record(out, patient_id=info.get("patient_id"), user=user, actions=[action])
            totals["saved"] += 1
        totals["records"] += 1
        totals["kept"] += merged.kept
        totals["suggested"] += merged.suggested
        yield {"id": rid, "kept": merged.kept, "suggested": merged.suggested, "skipped": merged.skipped,
               "version": version}
    return totals


def import_decision(saved: StructuredRecord | None, fresh: StructuredRecord) -> tuple[StructuredRecord | None, str]:
    """What an import does with a fresh analysis when a record with that id may already be saved.

    Returns ``(record to save or None, reason)``: a new record is saved; a saved record
    with the same text gets the merged analysis (reviewed entities kept exactly) or is
    skipped when nothing would change; a reviewed record whose text differs is never
    replaced (the doctor's decisions are not for an import to throw away).
    """
    if saved is None:
        return fresh, "new"
    if saved.text == fresh.text:
        out, _ = merge_record(saved, fresh)
        if [e.to_dict() for e in out.entities] == [e.to_dict() for e in saved.entities] and \
                out.model_version == saved.model_version:
            return None, "unchanged"
        return out, "merged"
    reviewed = bool(saved.deleted) or any(e.status in REVIEWED_STATUSES for e in saved.entities)
    if reviewed:
        return None, "reviewed_text_differs"
    return fresh, "new_version"
