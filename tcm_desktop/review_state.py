"""The doctor's review of one record, without Qt: entities with status, reversible edits, offset shifting.

Why a separate, Qt-free model: every review rule (what "corrected" means,
which spans may be added, how an edit of the text moves the spans after it)
is clinical behaviour that must be unit-tested without a display. The widgets
only render :class:`ReviewState` and turn key presses into calls on it.

Each operation -- a review step, an edit of the text, a re-analysis --
returns an :class:`Edit` holding the text, the entity list and the list of
deleted suggestions before and after. Snapshots share the (never mutated)
entity objects, so one costs a list copy even with a thousand entities, and
undo/redo is exact. Because typing is an Edit too, one undo stack (the Qt
``QUndoStack`` in ``ui/review.py``) undoes whatever the doctor did last, and
no edit removes an entity irrecoverably. Every edit also carries an audit
entry (action, before, after) that storage writes to ``review_actions``.

Entity objects are treated as immutable once in a state: operations build
replacements with :func:`dataclasses.replace`. ``deleted`` keeps the model
suggestions the doctor deleted, so a re-analysis does not bring them back
(:mod:`tcm_desktop.review_merge`).

Refusals are :class:`ReviewError` with a Chinese message template and its
arguments, so the UI translates the template and fills in the values.

Statuses: ``unreviewed`` (engine output untouched), ``accepted`` (doctor
confirmed), ``corrected`` (label/assertion/boundaries changed), ``added``
(doctor created it). Offsets are Python-str indices, as everywhere in the core.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from tcm_desktop.review_merge import merge_reanalysis
from tcm_desktop.schema import ASSERTIONS, CATEGORY_BY_CODE, SPAN_EDGE_FORBIDDEN, trim_span
from tcm_desktop.structured import FoundEntity, StructuredRecord

STATUSES = ("unreviewed", "accepted", "corrected", "added")
REVIEWED = frozenset({"accepted", "corrected", "added"})

#: A span edit (widen) never crosses these: they end a clause or sentence.
SENTENCE_PUNCTUATION = frozenset("，。；：、！？,.;:!?\n\r…")


class ReviewError(ValueError):
    """An operation the schema forbids (overlap, empty span, unknown label…); shown to the doctor.

    ``template`` is a Chinese message with ``%1``, ``%2`` placeholders and ``values`` fill them, so the
    UI can translate the template (``t(template)``) before filling it in.
    """

    def __init__(self, template: str, *values: object) -> None:
        self.template, self.values = template, tuple(str(v) for v in values)
        super().__init__(fill(template, self.values))


def fill(template: str, values: tuple[str, ...]) -> str:
    """``%1``, ``%2``… replaced by ``values`` (Qt's placeholder style, which translations keep)."""
    for k in range(len(values), 0, -1):
        template = template.replace(f"%{k}", values[k - 1])
    return template


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
    text_before: str | None = None  # set by edits of the text (None: the text is unchanged)
    text_after: str | None = None
    deleted_before: list[FoundEntity] = field(default_factory=list)
    deleted_after: list[FoundEntity] = field(default_factory=list)
    record_before: StructuredRecord | None = None  # set by a re-analysis (the engine's sections etc.)
    record_after: StructuredRecord | None = None
    dropped: list[FoundEntity] = field(default_factory=list)  # entities a text edit removed (undo restores them)
    text_range: tuple[int, int, int] | None = None  # (start, old_end, new_end) of a text edit

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
    """The text being reviewed and its entities (sorted, non-overlapping), deleted suggestions, audit log."""

    def __init__(self, text: str = "", entities: list[FoundEntity] | None = None,
                 deleted: list[FoundEntity] | None = None) -> None:
        self.text = text
        self.entities: list[FoundEntity] = sorted((copy.deepcopy(e) for e in entities or []),
                                                  key=lambda e: (e.start, e.end))
        self.deleted: list[FoundEntity] = [copy.deepcopy(e) for e in deleted or []]
        self.log: list[dict[str, Any]] = []  # audit entries of applied edits since load/save
        self.record: StructuredRecord | None = None  # the engine's output this review started from
        self.normalizer: Any = None  # the engine's normaliser when known (default: the shipped tables)

    # -- loading -----------------------------------------------------------------
    @classmethod
    def from_record(cls, record: StructuredRecord) -> ReviewState:
        state = cls(record.text, record.entities, getattr(record, "deleted", None))
        state.record = record
        return state

    def to_record(self, record_id: str | None = None) -> StructuredRecord:
        """The reviewed record: the engine's sections/prescription with the reviewed text and entities."""
        base = self.record or StructuredRecord(record_id or "", self.text)
        out = replace(base, id=base.id if record_id is None else record_id, text=self.text,
                      entities=list(self.entities), deleted=list(self.deleted))
        if self.record is None or self.record.text != self.text or _spans(self.record.entities) != _spans(out.entities):
            # the doctor changed the text or the spans: sections, assertions and prescription follow
            # (on copies: entity objects in a state are shared with the undo history and never mutated)
            from tcm_desktop.text.derive import refresh

            out = refresh(replace(out, entities=copy.deepcopy(out.entities)), self.normalizer)
        return out

    # -- queries -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entities)

    @property
    def reviewed(self) -> bool:
        """Whether the doctor has made any decision (a reviewed entity or a deleted suggestion)."""
        return bool(self.deleted) or any(e.status in REVIEWED for e in self.entities)

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
        return self._next_where(current, lambda e: e.status == "unreviewed")

    def next_low_confidence(self, current: int | None, threshold: float) -> int | None:
        """The next unreviewed entity whose model score is below ``threshold`` (wrapping)."""
        return self._next_where(current, lambda e: e.status == "unreviewed" and e.score < threshold)

    def _next_where(self, current: int | None, pred: Any) -> int | None:
        n = len(self.entities)
        for k in range(1, n + 1):
            i = ((current if current is not None else -1) + k) % n
            if pred(self.entities[i]):
                return i
        return None

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for e in self.entities:
            out[e.status] = out.get(e.status, 0) + 1
        return out

    # -- applying edits ----------------------------------------------------------
    def _install(self, text: str | None, entities: list[FoundEntity], deleted: list[FoundEntity],
                 record: StructuredRecord | None) -> None:
        if text is not None:
            self.text = text
        self.entities = list(entities)
        self.deleted = list(deleted)
        if record is not None:
            self.record = record

    def apply(self, edit: Edit) -> None:
        self._install(edit.text_after, edit.after, edit.deleted_after, edit.record_after)
        if edit.action != "edit_text":  # plain typing is not a review step to audit
            self.log.append(edit.audit())

    def revert(self, edit: Edit) -> None:
        self._install(edit.text_before, edit.before, edit.deleted_before, edit.record_before)
        if edit.action != "edit_text":
            self.log.append({"action": "undo_" + edit.action, "before": edit.audit_after, "after": edit.audit_before})

    def do(self, edit: Edit) -> Edit:
        """Apply and return (for code paths without an undo stack)."""
        self.apply(edit)
        return edit

    def _edit(self, action: str, after: list[FoundEntity], before_e: FoundEntity | None,
              after_e: FoundEntity | None, focus: int | None, deleted: list[FoundEntity] | None = None) -> Edit:
        after.sort(key=lambda e: (e.start, e.end))
        return Edit(action, list(self.entities), after, _brief(before_e), _brief(after_e), focus,
                    deleted_before=list(self.deleted),
                    deleted_after=list(self.deleted) if deleted is None else deleted)

    def _get(self, index: int) -> FoundEntity:
        if not 0 <= index < len(self.entities):
            raise ReviewError("没有第 %1 个实体", index)
        return self.entities[index]

    @staticmethod
    def _touched(e: FoundEntity) -> str:
        """Status after a doctor's change: an added entity stays 'added', others become 'corrected'."""
        return "added" if e.status == "added" else "corrected"

    def _replaced(self, index: int, new: FoundEntity) -> list[FoundEntity]:
        after = list(self.entities)
        after[index] = new
        return after

    # -- review operations (each returns an Edit; nothing changes until apply) -----
    def relabel(self, index: int, label: str) -> Edit:
        if label not in CATEGORY_BY_CODE:
            raise ReviewError("未知类别 %1", label)
        old = self._get(index)
        e = old if old.label == label else replace(old, label=label, normalized={}, status=self._touched(old))
        return self._edit("relabel", self._replaced(index, e), old, e, index)

    def set_assertion(self, index: int, assertion: str) -> Edit:
        if assertion not in ASSERTIONS:
            raise ReviewError("未知断言 %1", assertion)
        old = self._get(index)
        e = old if old.assertion == assertion else replace(old, assertion=assertion, status=self._touched(old))
        return self._edit("set_assertion", self._replaced(index, e), old, e, index)

    def accept(self, index: int) -> Edit:
        old = self._get(index)
        e = replace(old, status="accepted") if old.status == "unreviewed" else old
        return self._edit("accept", self._replaced(index, e), old, e, index)

    def accept_all_remaining(self) -> Edit:
        after = [replace(e, status="accepted") if e.status == "unreviewed" else e for e in self.entities]
        n = sum(e.status == "unreviewed" for e in self.entities)
        edit = self._edit("accept_all", after, None, None, None)
        edit.audit_after = {"accepted": n}
        return edit

    def delete(self, index: int) -> Edit:
        """Remove an entity; a model suggestion is remembered as deleted so re-analysis keeps it out."""
        old = self._get(index)
        after = list(self.entities)
        del after[index]
        focus = min(index, len(after) - 1) if after else None
        deleted = list(self.deleted) + ([] if old.status == "added" else [old])
        return self._edit("delete", after, old, None, focus, deleted)

    def add(self, start: int, end: int, label: str, assertion: str = "present") -> Edit:
        """A doctor-made entity over ``text[start:end]``; edges are trimmed of whitespace/punctuation."""
        if label not in CATEGORY_BY_CODE:
            raise ReviewError("未知类别 %1", label)
        if assertion not in ASSERTIONS:
            raise ReviewError("未知断言 %1", assertion)
        start, end = trim_span(self.text, max(0, min(start, end)), min(len(self.text), max(start, end)))
        if start >= end:
            raise ReviewError("选区为空：请先选中要标注的文字")
        for e in self.entities:
            if e.start < end and start < e.end:
                raise ReviewError("与「%1」（%2）重叠；请先修改或删除该实体", e.text, _label_zh(e.label))
        new = FoundEntity(start, end, label, self.text[start:end], assertion, 1.0, {}, "added")
        after = list(self.entities) + [new]
        after.sort(key=lambda e: (e.start, e.end))
        focus = next(i for i, e in enumerate(after) if e.start == start and e.end == end)
        return self._edit("add", after, None, new, focus)

    def resize(self, index: int, start: int, end: int) -> Edit:
        """Move the boundaries of an entity (widen/narrow).

        Refuses empty, overlapping or out-of-text spans, and spans that would begin or end with
        whitespace/punctuation or contain sentence punctuation the entity did not already contain
        (the same rule as adding a span, so 脉结代 never grows into 脉结代。诊).
        """
        old = self._get(index)
        if not (0 <= start < end <= len(self.text)):
            raise ReviewError("实体不能为空，也不能超出文本")
        for i, e in enumerate(self.entities):
            if i != index and e.start < end and start < e.end:
                raise ReviewError("会与「%1」重叠", e.text)
        new_text = self.text[start:end]
        if (start, end) != (old.start, old.end):
            if new_text[0] in SPAN_EDGE_FORBIDDEN or new_text[-1] in SPAN_EDGE_FORBIDDEN:
                raise ReviewError("实体的边界不能是标点或空白")
            if sum(c in SENTENCE_PUNCTUATION for c in new_text) > sum(c in SENTENCE_PUNCTUATION for c in old.text):
                raise ReviewError("实体不能跨越标点")
        e = old
        if (start, end) != (old.start, old.end):
            e = replace(old, start=start, end=end, text=new_text, status=self._touched(old))
        return self._edit("resize", self._replaced(index, e), old, e, index)

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

    # -- re-analysis -------------------------------------------------------------
    def reanalyse(self, fresh: StructuredRecord) -> Edit:
        """Fresh model output for the current text, merged so every decision of the doctor stays.

        Accepted, corrected and added entities stay exactly; deleted suggestions stay deleted;
        the model's suggestions are added where they touch neither (:func:`merge_reanalysis`).
        One Edit, so one undo takes the whole re-analysis back.
        """
        if fresh.text != self.text:
            raise ReviewError("分析结果对应的文本已改变，请重新分析")
        merged = merge_reanalysis(self.entities, self.deleted, fresh.entities)
        base = copy.deepcopy(fresh)
        base.entities = []
        edit = self._edit("reanalyse" if self.reviewed else "analyse", merged.entities, None, None, None)
        edit.record_before, edit.record_after = self.record, base
        edit.audit_after = {"kept": merged.kept, "suggested": merged.suggested, "skipped": merged.skipped,
                            "model_version": fresh.model_version}
        return edit

    # -- editing the text --------------------------------------------------------
    def text_edit(self, new_text: str, edit_start_hint: int | None = None) -> Edit:
        """An edit of the text as an undoable step: entities after it shift, those it touched are dropped.

        The changed region is found by common prefix/suffix; ``edit_start_hint``
        (where the editor says the change began, in Python offsets) resolves the
        ambiguity of typing inside a run of equal characters (``痛`` after ``痛痛``).
        An insertion exactly at an entity's start or end leaves the entity intact.
        Undoing the edit restores the dropped entities exactly.
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
        delta = new_end - old_end
        kept, dropped = self._shift(self.entities, p, old_end, delta)
        deleted, _ = self._shift(self.deleted, p, old_end, delta)
        edit = Edit("text_edit_dropped" if dropped else "edit_text", list(self.entities), kept, None, None, None, old, new_text,
                    list(self.deleted), deleted, dropped=dropped, text_range=(p, old_end, new_end))
        if dropped:
            edit.audit_before = [_brief(e) for e in dropped]
        return edit

    @staticmethod
    def _shift(entities: list[FoundEntity], p: int, old_end: int, delta: int
               ) -> tuple[list[FoundEntity], list[FoundEntity]]:
        """Entities kept (shifted when after the change ``[p, old_end)``) and those the change touched."""
        if old_end == p and delta == 0:
            return list(entities), []
        kept: list[FoundEntity] = []
        dropped: list[FoundEntity] = []
        for e in entities:
            if e.end <= p:  # before the edit (an insertion right after an entity leaves it alone)
                kept.append(e)
            elif e.start >= old_end:  # after the edit: shift
                kept.append(replace(e, start=e.start + delta, end=e.end + delta) if delta else e)
            else:
                dropped.append(e)
        return kept, dropped

    def replace_text(self, new_text: str, edit_start_hint: int | None = None) -> TextChange:
        """Apply :meth:`text_edit` at once (no undo stack) and say what it did."""
        edit = self.text_edit(new_text, edit_start_hint)
        p, old_end, new_end = edit.text_range or (0, 0, 0)
        self.apply(edit)
        return TextChange(p, old_end, new_end, list(edit.dropped))


def _label_zh(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    return cat.zh if cat else code
