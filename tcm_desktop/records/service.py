"""The record use cases: save, open, import, export, delete, history, re-analyse.

The GUI (``ui/main_window``, the batch dialog, the history dialog) and the
CLI (``structure --db``, ``import``, ``db ...``) call these functions, so both
save the same things the same way:

* derived data (assertions, sections, prescription rows) is recomputed from
  the text and entities before any save or export
  (:func:`tcm_desktop.text.derive.refresh`);
* a save writes patient, version, entities, audit steps, photos with their
  analyses, the pages of a paper record and the draft clean-up in one
  transaction (:meth:`Database.save`);
* images have a kind: the tongue photo (what the tongue panel, the report and
  the tongue analysis use) or a page the record was read from (what the paper
  tab shows again); one never stands in for the other;
* imported records keep their external id and source
  (:meth:`Database.import_record`): re-importing the same line is a no-op,
  nothing from an input ever becomes a version of another record.

Qt-free; database errors arrive as :class:`StorageError` subclasses.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tcm_desktop.records.database import (
    Database,
    HistoryEntry,
    PhotoInput,
    ReviewAction,
    SaveResult,
    StoredPage,
)
from tcm_desktop.records.inputs import InputRecord
from tcm_desktop.structured import StructuredRecord


@dataclass
class OpenedRecord:
    """Everything the app shows for a saved record."""

    record: StructuredRecord
    version: int
    patient_id: int | None
    patient_name: str
    external_id: str
    source: str
    photo: bytes | None = None
    photo_analysis: dict[str, Any] | None = None
    draft: tuple[str, str] | None = None
    #: the pages of the paper record it was read from (page order; [] when typed)
    pages: list[StoredPage] = field(default_factory=list)


class PageLike(Protocol):
    """A page to store with a record (:class:`tcm_desktop.ocr.storage.EncodedPage` is one)."""

    page: int
    data: bytes
    layout: Mapping[str, Any] | None


def page_inputs(pages: Iterable[PageLike]) -> list[PhotoInput]:
    """Pages of a paper record as images of kind 'page' (never taken for the tongue photo)."""
    return [PhotoInput(p.data, kind="page", page=int(p.page), layout=dict(p.layout) if p.layout else None)
            for p in pages]


@dataclass
class ImportSummary:
    """What an import did: new records, records already there, problems (one sentence each)."""

    saved: list[SaveResult] = field(default_factory=list)
    unchanged: list[SaveResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    total: int = 0
    cancelled: bool = False


def public_record(r: StructuredRecord, with_status: bool = False) -> dict[str, Any]:
    """The ``structure`` output format of one record (``with_status`` adds each entity's ``review`` status)."""
    d = r.to_dict()
    keys = ("start", "end", "label", "text", "assertion", "score", "normalized")
    return {
        "id": d["id"],
        "entities": [{**{k: e[k] for k in keys}, **({"review": e["status"]} if with_status else {})}
                     for e in d["entities"]],
        "sections": d["sections"],
        "prescription": d["prescription"],
        "model_version": d["model_version"],
        **({"tongue": d["tongue"]} if "tongue" in d else {}),
    }


def is_reviewed(record: StructuredRecord) -> bool:
    """Every entity has been looked at by the doctor (and there is at least one)."""
    return bool(record.entities) and all(e.status != "unreviewed" for e in record.entities)


class RecordService:
    """Use cases over one :class:`Database` (one per thread, like the database)."""

    def __init__(self, db: Database, normalizer: Any = None) -> None:
        self.db = db
        self.normalizer = normalizer

    # -- derived data --------------------------------------------------------------
    def refreshed(self, record: StructuredRecord) -> StructuredRecord:
        """A copy of ``record`` with sections, assertions and prescription recomputed for its text."""
        from tcm_desktop.text.derive import refresh

        return refresh(copy.deepcopy(record), self.normalizer)

    # -- save / open ---------------------------------------------------------------
    def save(self, record: StructuredRecord, *, patient_name: str | None = None, patient_id: int | None = None,
             user: str = "", actions: Iterable[Mapping[str, Any]] = (), photo: PhotoInput | None = None,
             clear_drafts: Iterable[str] = (), pages: Iterable[PageLike] = ()) -> SaveResult:
        """Save the doctor's record as a new version (a new record when its id is empty), in one transaction.

        ``photo`` is the tongue photo; ``pages`` the pages of the paper record it was read from.
        """
        from tcm_desktop.records.queue import record_title

        rec = self.refreshed(record)
        shown = patient_name
        if shown is None and rec.id:  # saving again without naming the patient: the title keeps the saved one
            info = self.db.record_info(rec.id) or {}
            patient = self.db.get_patient(info["patient_id"]) if info.get("patient_id") else None
            shown = patient["name"] if patient else ""
        res = self.db.save(rec, patient_id=patient_id, patient_name=patient_name, user=user, actions=list(actions),
                           title=record_title(rec, shown or ""),
                           photos=([photo] if photo is not None else []) + page_inputs(pages),
                           clear_drafts=list(clear_drafts))
        record.id = res.record_id
        return res

    def open(self, record_id: str, version: int | None = None) -> OpenedRecord:
        rec = self.db.load_record(record_id, version)
        info = self.db.record_info(record_id) or {}
        pid = info.get("patient_id")
        patient = self.db.get_patient(pid) if pid else None
        photos = self.db.record_photos(record_id, kind="tongue")
        return OpenedRecord(
            rec, int(version or info.get("current_version") or 1), pid, patient["name"] if patient else "",
            info.get("external_id") or "", info.get("source") or "",
            self.db.photo_bytes(photos[-1]) if photos else None,
            self.db.photo_analysis(photos[-1]) if photos else None,
            self.db.load_draft(record_id),
            self.db.record_pages(record_id),
        )

    # -- drafts ----------------------------------------------------------------------
    def stash_pages(self, pages: Iterable[PageLike]) -> list[dict[str, Any]]:
        """Store page images for a draft (content-addressed, not yet linked to a record) and return the
        JSON-able references the draft keeps: ``[{"sha256", "page", "layout"}]``. Storing the same
        image again costs one hash: the row is already there."""
        return [{"sha256": self.db.add_photo(p.data), "page": int(p.page),
                 "layout": dict(p.layout) if p.layout else None} for p in pages]

    def stashed_pages(self, refs: Iterable[Mapping[str, Any]]) -> list[StoredPage]:
        """The pages a draft referenced (those whose image is still stored), in page order."""
        out = []
        for r in refs:
            data = self.db.photo_bytes(str(r.get("sha256", "")))
            if data is not None:
                out.append(StoredPage(int(r.get("page", 0)), data, r.get("layout"), str(r["sha256"])))
        return sorted(out, key=lambda p: p.page)

    def delete(self, record_id: str, user: str = "") -> None:
        self.db.delete_record(record_id, user=user)

    # -- import --------------------------------------------------------------------
    def store_import(self, inp: InputRecord, record: StructuredRecord, *, user: str = "",
                     photo: PhotoInput | None = None, reviewed: bool = False,
                     pages: Iterable[PageLike] = ()) -> SaveResult:
        """Save one record read from an input under its identity (external id + source + text);
        ``pages`` are the pages of the paper record it was read from (``structure --ocr --db``)."""
        rec = copy.deepcopy(record)
        if reviewed:
            for e in rec.entities:
                e.status = "accepted"
        rec = self.refreshed(rec)
        actions = [{"action": "import_reviewed", "before": None, "after": {"entities": len(rec.entities)}}] \
            if reviewed else []
        return self.db.import_record(rec, inp.external_id, inp.source, user=user, patient_name=inp.patient,
                                     photos=([photo] if photo is not None else []) + page_inputs(pages),
                                     actions=actions)

    def import_records(
        self,
        inputs: Iterable[InputRecord],
        engine: Any = None,
        *,
        reviewed: bool = False,
        user: str = "",
        photo_for: Callable[[StructuredRecord], PhotoInput | None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_saved: Callable[[SaveResult, InputRecord], None] | None = None,
        chunk: int = 32,
    ) -> ImportSummary:
        """Structure (with ``engine`` when a record has no entities) and store every input record.

        Each record is its own transaction: a crash or cancel keeps what was
        saved, and re-running the import skips those records.
        """
        summary = ImportSummary()
        items = list(inputs)
        summary.total = len(items)
        for c in range(0, len(items), chunk):
            if should_stop and should_stop():
                summary.cancelled = True
                break
            part = items[c : c + chunk]
            for inp, rec in zip(part, self._structured(part, engine)):
                if should_stop and should_stop():
                    summary.cancelled = True
                    break
                res = self.store_import(inp, rec, user=user, reviewed=reviewed,
                                        photo=photo_for(rec) if photo_for else None)
                (summary.unchanged if res.unchanged else summary.saved).append(res)
                if on_saved:
                    on_saved(res, inp)
            if summary.cancelled:
                break
        return summary

    @staticmethod
    def _structured(part: list[InputRecord], engine: Any) -> Iterator[StructuredRecord]:
        todo = [(i.external_id, i.text) for i in part if i.entities is None]
        if todo and engine is None:
            raise ValueError("records without entities need the structuring engine")
        found = iter(engine.structure_many(todo) if todo else [])
        for inp in part:
            if inp.entities is None:
                yield next(found)
            else:
                yield StructuredRecord(inp.external_id, inp.text, [copy.copy(e) for e in inp.entities])

    # -- history / listing -----------------------------------------------------------
    def history(self, query: str = "", limit: int | None = 500) -> list[HistoryEntry]:
        return self.db.history(query, limit=limit)

    def versions(self, record_id: str) -> list[dict[str, Any]]:
        return self.db.versions(record_id)

    def audit(self, record_id: str) -> list[ReviewAction]:
        return self.db.actions(record_id)

    def list_rows(self, query: str = "") -> list[dict[str, Any]]:
        """One summary dict per record (``db list`` / ``db search``), newest first."""
        rows = []
        for h in self.db.history(query, limit=None):
            rec = self.db.load_record(h.record_id)
            rows.append({
                "record_id": h.record_id, "external_id": h.external_id, "source": h.source,
                "patient": h.patient_name, "title": h.title, "versions": h.version, "updated": h.updated,
                "entities": h.entity_count, "reviewed": is_reviewed(rec),
            })
        return rows

    def export_records(self, reviewed_only: bool = False) -> Iterator[tuple[HistoryEntry, StructuredRecord]]:
        """Every record's current version with derived data recomputed, oldest first."""
        for h in reversed(self.db.history("", limit=None)):
            rec = self.refreshed(self.db.load_record(h.record_id))
            if reviewed_only and not is_reviewed(rec):
                continue
            yield h, rec

    def export_rows(self, reviewed_only: bool = False, deidentifier: Any = None) -> Iterator[dict[str, Any]]:
        """``db export`` JSON lines: the structure format plus identity and each entity's review status.

        With a :class:`~tcm_desktop.records.deidentify.Deidentifier` the rows are for research: the
        text is included with identifiers replaced by placeholders (offsets recomputed), the patient
        and the source become placeholders and the ids keyed pseudonyms.
        """
        for h, rec in self.export_records(reviewed_only):
            if deidentifier is None:
                row = public_record(rec, with_status=True)
                row.update({"external_id": h.external_id, "source": h.source, "patient": h.patient_name,
                            "version": h.version})
                yield row
                continue
            clean, _ = deidentifier.record(rec, h.patient_name, str(h.patient_id or ""))
            row = {**public_record(clean, with_status=True), "text": clean.text}
            row.update({"external_id": deidentifier.pseudonym(h.external_id or h.record_id),
                        "source": "", "patient": "[姓名]" if h.patient_name else "", "version": h.version})
            yield row

    # -- re-analysis hook --------------------------------------------------------------
    def reanalyse(self, record_id: str, engine: Any) -> StructuredRecord:
        """The engine's fresh result for a saved record's text (not saved: the doctor reviews it first)."""
        rec = self.db.load_record(record_id)
        fresh = engine.structure(rec.text, record_id)
        fresh.tongue = rec.tongue
        return fresh


def _slices(n: int, first: int = 1, largest: int = 32) -> Iterator[tuple[int, int]]:
    """Growing batches (1, 2, 4 … ``largest``): progress shows after the first record, later ones batch."""
    i, size = 0, first
    while i < n:
        yield i, min(n, i + size)
        i += size
        size = min(largest, size * 2)


def import_folder(engine: Any, db_path: Any, folder: Any, user: str = "") -> Generator[dict[str, Any], None, dict[str, Any]]:
    """The GUI batch import as a job generator (:mod:`tcm_desktop.progress`): one log entry per record or problem.

    Reads the folder with the shared reader (bad lines and non-UTF-8 files are
    named, the rest imports), structures and stores each record under its
    identity in its own transaction, on its own connection: a record already
    saved with the same source, id and text is left as it is (its review is
    never replaced), another text becomes a record of its own. Entries are
    ``{"source", "id", "outcome": saved|skipped|error, "reason", "done", "total"}``.
    A cancel (:class:`~tcm_desktop.progress.Cancelled` thrown in) returns what was saved.
    """
    from pathlib import Path

    from tcm_desktop.progress import Cancelled
    from tcm_desktop.records.inputs import read_folder

    problems: list[str] = []
    items = list(read_folder(Path(folder), problems))
    total = len(items)
    for msg in problems:
        where, _, reason = msg.partition(": ")
        yield {"source": where, "id": "", "outcome": "error", "reason": reason or msg, "done": 0, "total": total}
    saved: list[str] = []
    skipped: list[str] = []
    cancelled = False
    with Database(db_path) as db:
        svc = RecordService(db, getattr(engine, "normalizer", None))
        try:
            for a, b in _slices(total):
                part = items[a:b]
                for inp, rec in zip(part, svc._structured(part, engine)):
                    res = svc.store_import(inp, rec, user=user)
                    if res.unchanged:
                        skipped.append(res.record_id)
                        outcome, reason = "skipped", "unchanged"
                    else:
                        saved.append(res.record_id)
                        outcome, reason = "saved", "new" if res.created else "new_version"
                    yield {"source": inp.where or inp.source, "id": inp.external_id, "outcome": outcome,
                           "reason": reason, "done": len(saved) + len(skipped), "total": total}
        except Cancelled:
            cancelled = True
    return {"saved": saved, "skipped": skipped, "unchanged": skipped, "errors": len(problems), "total": total,
            "cancelled": cancelled, "problems": problems}


def terms_from_database(db_path: Any) -> list[tuple[str, str]]:
    """(term, label) of every entity the doctor added or corrected, in each record's current version,
    for the clinic dictionary (:mod:`tcm_desktop.text.clinic_dictionary`); a term the doctor gave
    several labels gets the one given most often. Opened like any database (plain or encrypted)."""
    from tcm_desktop.text.clinic_dictionary import most_common_label

    with Database(db_path) as db:
        rows = db.conn.execute(
            "SELECT e.text, e.label FROM entities e JOIN records r ON r.id = e.record_id "
            "AND e.version = r.current_version WHERE e.status IN ('added', 'corrected')"
        ).fetchall()
    return most_common_label(rows)
