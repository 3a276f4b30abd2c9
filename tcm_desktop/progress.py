"""How long-running core work reports progress and hears a cancel, without Qt.

A long job in the core is a *generator*: each ``yield`` hands out progress
(``(done, total)`` or any value the caller understands) and is a point where
the caller may stop it. To stop a job that must still report what it did (a
batch import that saved some records), the caller throws :class:`Cancelled`
into the generator, which catches it and ``return``\\ s its summary. The GUI's
``ui.workers.Task`` and the CLI drive such generators the same way.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

T = TypeVar("T")


class Cancelled(Exception):  # noqa: N818 - a signal, not an error
    """Thrown into a job's generator when the user cancels it."""


def run_to_end(job: Generator[Any, None, T]) -> T:
    """Drive a job generator without progress reporting (the CLI, tests); its return value."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value
