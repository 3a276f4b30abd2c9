"""Derived data of a record: assertions, normalisation, sections, prescription rows.

Why a module of its own: these are recomputed from the text and the entities
whenever either changes — after the engine decodes spans, and after every
edit the doctor makes (typing shifts offsets, a corrected span changes the
prescription). The engine, the review state, the record service (save,
import, export) and the GUI all call :func:`rederive`, so what is shown, saved
and exported always matches the text on screen. Qt-free and model-free: only
the rule modules and the normalisation tables.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tcm_desktop.config import models_dir
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.assertion import assign_assertions
from tcm_desktop.text.clinic_dictionary import SOURCE_KEY
from tcm_desktop.text.prescription import build_prescription
from tcm_desktop.text.script import ScriptView, in_doctors_script
from tcm_desktop.text.sections import find_sections
from tcm_desktop.text.templates import apply_template_assertions
from tcm_desktop.text.values import Normalizer

#: statuses whose assertion the doctor has seen or set: recomputing must not overwrite it
REVIEWED = frozenset({"accepted", "corrected", "added"})


@functools.cache
def default_normalizer(model_dir: str | None = None) -> Normalizer:
    """The normaliser the shipped model uses (its tables, when present, plus the team lexicon)."""
    directory = Path(model_dir) if model_dir else models_dir() / "ner"
    extra = directory / "normalization.json"
    norm = Normalizer.from_resources(extra if extra.is_file() else None)
    lexicon = directory / "lexicon.json"
    if lexicon.is_file():
        from tcm_desktop.text.lexicon import Lexicon

        norm.known_herbs |= set(Lexicon.load(lexicon).terms("HERB"))
    return norm


def rederive(record_id: str, text: str, entities: list[FoundEntity], normalizer: Normalizer | None = None,
             model_version: str = "", keep_reviewed: bool = True) -> StructuredRecord:
    """A record whose assertions, normalisation, sections and prescription follow ``text`` and ``entities``.

    ``entities`` are updated in place (their ``text`` re-read from ``text``).
    With ``keep_reviewed``, an entity the doctor accepted or corrected keeps
    its assertion; the others get the rules' assertion for the current text.
    A traditional-script record is read in simplified script (same offsets) and
    answered in the doctor's own characters (:mod:`tcm_desktop.text.script`).
    """
    normalizer = normalizer or default_normalizer()
    view = ScriptView.of(text)
    if view.model != text:
        return in_doctors_script(view, rederive(record_id, view.model, entities, normalizer, model_version, keep_reviewed))
    for e in entities:
        e.text = text[e.start : e.end]
    kept = {id(e): e.assertion for e in entities if keep_reviewed and e.status in REVIEWED}
    sections = find_sections(text)
    assign_assertions(text, entities, sections)
    apply_template_assertions(entities)
    for e in entities:
        if id(e) in kept:
            e.assertion = kept[id(e)]
        # where an entity came from (e.g. the clinic dictionary's proposal) survives re-derivation
        keep = {SOURCE_KEY: e.normalized[SOURCE_KEY]} if e.normalized and SOURCE_KEY in e.normalized else {}
        e.normalized = {**normalizer.normalize_entity(e), **keep}
    rx = build_prescription(text, entities, normalizer, sections)
    return StructuredRecord(record_id, text, entities, sections, rx, model_version)


def refresh(record: StructuredRecord, normalizer: Normalizer | None = None) -> StructuredRecord:
    """``record`` with its derived data recomputed (id, tongue and model version kept)."""
    out = rederive(record.id, record.text, record.entities, normalizer, record.model_version)
    out.tongue = record.tongue
    out.deleted = list(getattr(record, "deleted", []))  # the doctor's deletions stay deleted
    return out
