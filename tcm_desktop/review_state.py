"""The doctor's review of one record, without Qt: entities with status, reversible edits, offset shifting.

Why a separate, Qt-free model: every review rule (what "corrected" means,
which spans may be added, how an edit of the text moves the spans after it)
is clinical behaviour that must be unit-tested without a display. The widgets
only render :class:`ReviewState` and turn key presses into calls on it.

Each review operation returns an :class:`Edit` holding the entity list before
and after (records have tens to a few hundred entities; snapshots are cheap and
make undo/redo trivially exact). ``apply``/``revert`` install one side; the Qt
undo stack (``ui/review.py``) wraps them in ``QUndoCommand``s. Every edit also
carries an audit entry (action, before, after) that storage writes to
``review_actions`` on save.

Statuses: ``unreviewed`` (engine output untouched), ``accepted`` (doctor
confirmed), ``corrected`` (label/assertion/boundaries changed), ``added``
(doctor created it). Offsets are Python-str indices, as everywhere in the core.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tcm_desktop.schema import ASSERTIONS, CATEGORY_BY_CODE, SPAN_EDGE_FORBIDDEN
from tcm_desktop.structured import FoundEntity, StructuredRecord

STATUSES = ("unreviewed", "accepted", "corrected", "added")


class ReviewError(ValueError):
    """An operation the schema forbids (overlap, empty span, unknown label…); shown to the doctor."""


def _brief(e: FoundEntity | None) -> dict[str, Any] | None:
    """What the audit trail keeps of an entity."""
    if e is None:
        return None
    return {"start": e.start, "end": e.end, "label": e.label, "text": e.text, "assertion": e.assertion,
            "status": e.status}


@dataclass
class Edit:
    """One reversible review step: the whole entity list before and after, plus its audit entry."""

    action: str
    before: list[FoundEntity]
    after: list[FoundEntity]
    audit_before: Any = None
    audit_after: Any = None
    focus: int | None = None  # index of the entity to make current after applying (None: keep)

    def audit(self) -> dict[str, Any]:
        return {"action": self.action, "before": self.audit_before, "after": self.audit_after}


@dataclass
class TextChange:
    """What an edit of the text did to the entities: how far later ones moved and which were dropped."""

    start: int
    old_end: int
    new_end: int
    dropped: list[FoundEntity] = field(default_factory=list)

    @property
    def delta(self) -> int:
        return self.new_end - self.old_end


def _spans(entities: list[FoundEntity]) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.label) for e in sorted(entities, key=lambda e: (e.start, e.end))]


class ReviewState:
    """The text being reviewed and its entities (sorted, non-overlapping), plus the audit log."""

    def __init__(self, text: str = "", entities: list[FoundEntity] | None = None) -> None:
        self.text = text
        self.entities: list[FoundEntity] = sorted((copy.deepcopy(e) for e in entities or []),
                                                  key=lambda e: (e.start, e.end))
        self.log: list[dict[str, Any]] = []  # audit entries of applied edits since load/save
        self.record: StructuredRecord | None = None  # the engine's output this review started from
        self.normalizer: Any = None  # the engine's normaliser when known (default: the shipped tables)

    # -- loading -----------------------------------------------------------------
    @classmethod
    def from_record(cls, record: StructuredRecord) -> ReviewState:
        state = cls(record.text, record.entities)
        state.record = record
        return state

    def to_record(self, record_id: str | None = None) -> StructuredRecord:
        """The reviewed record: the engine's sections/prescription with the reviewed text and entities."""
        base = self.record or StructuredRecord(record_id or "", self.text)
        out = copy.deepcopy(base)
        if record_id is not None:
            out.id = record_id
        out.text = self.text
        out.entities = copy.deepcopy(self.entities)
        if self.record is None or self.record.text != self.text or _spans(self.record.entities) != _spans(out.entities):
            # the doctor changed the text or the spans: sections, assertions and prescription follow
            from tcm_desktop.text.derive import refresh

            out = refresh(out, self.normalizer)
        return out

    # -- queries -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entities)

    def index_at(self, pos: int) -> int | None:
        """The entity containing character ``pos`` (or ending right at it), if any."""
        for i, e in enumerate(self.entities):
            if e.start <= pos < e.end:
                return i
        for i, e in enumerate(self.entities):
            if e.end == pos:
                return i
        return None

    def next_index(self, current: int | None, backwards: bool = False) -> int | None:
        """Tab / Shift+Tab: the next (previous) entity, wrapping around."""
        n = len(self.entities)
        if n == 0:
            return None
        if current is None:
            return n - 1 if backwards else 0
        return (current - 1) % n if backwards else (current + 1) % n

    def next_unreviewed(self, current: int | None) -> int | None:
        n = len(self.entities)
        for k in range(1, n + 1):
            i = ((current if current is not None else -1) + k) % n
            if self.entities[i].status == "unreviewed":
                return i
        return None

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for e in self.entities:
            out[e.status] = out.get(e.status, 0) + 1
        return out

    # -- applying edits ----------------------------------------------------------
    def apply(self, edit: Edit) -> None:
        self.entities = copy.deepcopy(edit.after)
        self.log.append(edit.audit())

    def revert(self, edit: Edit) -> None:
        self.entities = copy.deepcopy(edit.before)
        self.log.append({"action": "undo_" + edit.action, "before": edit.audit_after, "after": edit.audit_before})

    def do(self, edit: Edit) -> Edit:
        """Apply and return (for code paths without an undo stack)."""
        self.apply(edit)
        return edit

    def _edit(self, action: str, after: list[FoundEntity], before_e: FoundEntity | None,
              after_e: FoundEntity | None, focus: int | None) -> Edit:
        after.sort(key=lambda e: (e.start, e.end))
        return Edit(action, copy.deepcopy(self.entities), after, _brief(before_e), _brief(after_e), focus)

    def _get(self, index: int) -> FoundEntity:
        if not 0 <= index < len(self.entities):
            raise ReviewError(f"no entity #{index}")
        return self.entities[index]

    @staticmethod
    def _touched(e: FoundEntity) -> str:
        """Status after a doctor's change: an added entity stays 'added', others become 'corrected'."""
        return "added" if e.status == "added" else "corrected"

    # -- review operations (each returns an Edit; nothing changes until apply) -----
    def relabel(self, index: int, label: str) -> Edit:
        if label not in CATEGORY_BY_CODE:
            raise ReviewError(f"unknown category {label}")
        old = self._get(index)
        after = copy.deepcopy(self.entities)
        e = after[index]
        if e.label != label:
            e.label = label
            e.normalized = {}  # the engine's normalisation was for the old category
            e.status = self._touched(old)
        return self._edit("relabel", after, old, e, index)

    def set_assertion(self, index: int, assertion: str) -> Edit:
        if assertion not in ASSERTIONS:
            raise ReviewError(f"unknown assertion {assertion}")
        old = self._get(index)
        after = copy.deepcopy(self.entities)
        e = after[index]
        if e.assertion != assertion:
            e.assertion = assertion
            e.status = self._touched(old)
        return self._edit("set_assertion", after, old, e, index)

    def accept(self, index: int) -> Edit:
        old = self._get(index)
        after = copy.deepcopy(self.entities)
        if after[index].status == "unreviewed":
            after[index].status = "accepted"
        return self._edit("accept", after, old, after[index], index)

    def accept_all_remaining(self) -> Edit:
        after = copy.deepcopy(self.entities)
        n = 0
        for e in after:
            if e.status == "unreviewed":
                e.status = "accepted"
                n += 1
        edit = self._edit("accept_all", after, None, None, None)
        edit.audit_after = {"accepted": n}
        return edit

    def delete(self, index: int) -> Edit:
        old = self._get(index)
        after = copy.deepcopy(self.entities)
        del after[index]
        focus = min(index, len(after) - 1) if after else None
        return self._edit("delete", after, old, None, focus)

    def add(self, start: int, end: int, label: str, assertion: str = "present") -> Edit:
        """A doctor-made entity over ``text[start:end]``; edges are trimmed of whitespace/punctuation."""
        if label not in CATEGORY_BY_CODE:
            raise ReviewError(f"unknown category {label}")
        if assertion not in ASSERTIONS:
            raise ReviewError(f"unknown assertion {assertion}")
        start, end = max(0, min(start, end)), min(len(self.text), max(start, end))
        while start < end and self.text[start] in SPAN_EDGE_FORBIDDEN:
            start += 1
        while end > start and self.text[end - 1] in SPAN_EDGE_FORBIDDEN:
            end -= 1
        if start >= end:
            raise ReviewError("empty selection: select the words of the finding first")
        for e in self.entities:
            if e.start < end and start < e.end:
                raise ReviewError(f"overlaps 「{e.text}」 ({e.label}); change or delete that entity first")
        new = FoundEntity(start, end, label, self.text[start:end], assertion, 1.0, {}, "added")
        after = copy.deepcopy(self.entities) + [new]
        after.sort(key=lambda e: (e.start, e.end))
        focus = next(i for i, e in enumerate(after) if e.start == start and e.end == end)
        return self._edit("add", after, None, new, focus)

    def resize(self, index: int, start: int, end: int) -> Edit:
        """Move the boundaries of an entity (widen/narrow); refuses empty, overlapping or out-of-text spans."""
        old = self._get(index)
        if not (0 <= start < end <= len(self.text)):
            raise ReviewError("the entity cannot be empty or leave the text")
        for i, e in enumerate(self.entities):
            if i != index and e.start < end and start < e.end:
                raise ReviewError(f"would overlap 「{e.text}」")
        after = copy.deepcopy(self.entities)
        e = after[index]
        e.start, e.end, e.text = start, end, self.text[start:end]
        if (start, end) != (old.start, old.end):
            e.status = self._touched(old)
        return self._edit("resize", after, old, e, index)

    def widen_left(self, index: int) -> Edit:
        e = self._get(index)
        return self.resize(index, e.start - 1, e.end)

    def widen_right(self, index: int) -> Edit:
        e = self._get(index)
        return self.resize(index, e.start, e.end + 1)

    def narrow_left(self, index: int) -> Edit:
        """Move the start one character right."""
        e = self._get(index)
        return self.resize(index, e.start + 1, e.end)

    def narrow_right(self, index: int) -> Edit:
        """Move the end one character left."""
        e = self._get(index)
        return self.resize(index, e.start, e.end - 1)

    # -- editing the text --------------------------------------------------------
    def replace_text(self, new_text: str, edit_start_hint: int | None = None) -> TextChange:
        """Install the edited text; shift entities after the edit, drop those the edit touched.

        The changed region is found by common prefix/suffix; ``edit_start_hint``
        (where the editor says the change began, in Python offsets) resolves the
        ambiguity of typing inside a run of equal characters (``痛`` after ``痛痛``).
        An insertion exactly at an entity's start or end leaves the entity intact.
        Not an undoable review step: the editor's own undo handles typing.
        """
        old = self.text
        p = 0
        limit = min(len(old), len(new_text))
        while p < limit and old[p] == new_text[p]:
            p += 1
        if edit_start_hint is not None:
            p = max(0, min(p, edit_start_hint))
        s = 0
        while s < limit - p and old[len(old) - 1 - s] == new_text[len(new_text) - 1 - s]:
            s += 1
        old_end, new_end = len(old) - s, len(new_text) - s
        change = TextChange(p, old_end, new_end)
        self.text = new_text
        if old_end == p and new_end == p:
            return change
        kept: list[FoundEntity] = []
        for e in self.entities:
            if e.end <= p:  # before the edit (an insertion right after an entity leaves it alone)
                kept.append(e)
            elif e.start >= old_end:  # after the edit: shift
                e.start += change.delta
                e.end += change.delta
                kept.append(e)
            else:
                change.dropped.append(e)
        self.entities = kept
        if change.dropped:
            self.log.append({"action": "text_edit_dropped", "before": [_brief(e) for e in change.dropped],
                             "after": None})
        return change
