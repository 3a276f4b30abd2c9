"""One record's tongue photo as a state machine, without Qt: what the tongue panel draws.

Why a separate model: the panel used to hold the photo, the running analysis,
its result and the relation to the record in widget fields, so the rules
(a newer photo wins over a slower older analysis; a refused photo shows no
findings; a stored analysis stays when the model is missing; compare with the
record's tongue entities, or suggest text when it has none) could only be
tested through widgets. Here they are plain Python, like
:class:`~tcm_desktop.review_state.ReviewState` for the text.

States: ``empty`` (no photo), ``analysing``, ``done``, ``unavailable`` (no
tongue model installed), ``failed`` (the model could not be loaded or run).
Each photo gets a new *generation*; :meth:`TongueSession.accept` drops an
outcome whose generation is not the current one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tcm_desktop.tongue.wording import mentions_tongue, with_record

STATES = ("empty", "analysing", "done", "unavailable", "failed")


@dataclass
class TongueSession:
    """The photo of the open record, its analysis and how it relates to the record's text."""

    photo_bytes: bytes | None = None
    result: dict[str, Any] | None = None  # the engine's result alone (or the one stored with the record)
    model_version: str = ""
    mask: np.ndarray | None = None  # bool, the size of ``rgb``
    rgb: np.ndarray | None = None  # the photo as analysed (orientation applied)
    outline: list[np.ndarray] = field(default_factory=list)  # tongue outline polygons in photo pixels
    model_error: str | None = None
    state: str = "empty"
    generation: int = 0
    entities: list[Any] = field(default_factory=list)
    record_text: str = ""

    # -- photo ----------------------------------------------------------------------
    def set_photo(self, data: bytes, stored: dict[str, Any] | None = None) -> int:
        """A new photo; returns its generation. ``stored`` (a reopened record's analysis) shows until a fresh one."""
        self.generation += 1
        self.photo_bytes = data
        self.result = dict(stored) if stored else None
        self.mask = self.rgb = None
        self.outline = []
        self.model_error = None
        self.state = "analysing"
        return self.generation

    def clear(self) -> None:
        self.generation += 1
        self.photo_bytes = None
        self.result = None
        self.mask = self.rgb = None
        self.outline = []
        self.model_error = None
        self.state = "empty"

    def model_missing(self) -> None:
        """No tongue model is installed: the photo is kept, a stored analysis stays."""
        self.state = "unavailable"
        self.model_error = None

    def accept(self, outcome: dict[str, Any]) -> bool:
        """Take an analysis outcome (see ``ui.workers.analyse_photo``); False when it is stale or empty."""
        if outcome.get("generation") != self.generation or self.photo_bytes is None:
            return False  # an older photo's result: a newer photo has replaced it
        if outcome.get("error"):
            self.state = "failed"
            self.model_error = str(outcome["error"])
            return True
        a = outcome.get("analysis")
        if a is None:
            return False
        self.result = a.result
        self.model_version = str(outcome.get("model_version", ""))
        self.mask = a.mask
        self.rgb = a.rgb
        # the outline goes with findings only: a refused photo's "tongue" may be a guess (e.g. a blank wall)
        self.outline = list(a.outline()) if a.result.get("ok") and a.rgb is not None else []
        self.state = "done"
        return True

    # -- the record ---------------------------------------------------------------------
    def set_record(self, entities: Iterable[Any], text: str | None = None) -> None:
        self.entities = list(entities)
        if text is not None:
            self.record_text = text

    @property
    def analysis(self) -> dict[str, Any] | None:
        """The result with ``disagreements`` and ``suggested_text`` for this record (what is saved)."""
        return with_record(self.result, self.entities) if self.result else None

    @property
    def findings_ok(self) -> bool:
        return bool(self.result and self.result.get("ok"))

    @property
    def disagreements(self) -> list[str]:
        return list((self.analysis or {}).get("disagreements") or [])

    @property
    def compares_with_record(self) -> bool:
        """Findings exist and the record describes the tongue: show agreement or disagreements."""
        return self.findings_ok and mentions_tongue(self.entities)

    @property
    def suggested_text(self) -> str:
        return str((self.analysis or {}).get("suggested_text") or "")

    @property
    def offers_text(self) -> bool:
        """The record has no tongue description and the photo gives one to insert."""
        return bool(self.suggested_text) and not mentions_tongue(self.entities)

    @property
    def text_inserted(self) -> bool:
        return bool(self.suggested_text) and self.suggested_text in self.record_text

    def status(self) -> str:
        """Which status line the panel shows: ``no_photo``, ``analysing``, ``unavailable``, ``failed``,
        ``refused``, ``result``, ``result_model_missing`` or ``not_analysed``."""
        res = self.result
        if self.photo_bytes is None:
            return "no_photo"
        if self.state == "analysing":
            return "analysing"
        if self.state in ("unavailable", "failed") and not res:
            return self.state
        if res and not res.get("ok"):
            return "refused"
        if res:
            return "result_model_missing" if self.state in ("unavailable", "failed") else "result"
        return "not_analysed"
