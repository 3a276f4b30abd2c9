"""Command-line pieces the training scripts share: the export arguments and the report printout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def export_args(argv: list[str] | None, description: str | None, keep_fp32_help: str | None = None) -> argparse.Namespace:
    """``--run`` (a training run folder), ``--out`` (the model folder) and ``--keep-fp32`` of an export script."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--keep-fp32", action="store_true", help=keep_fp32_help)
    return ap.parse_args(argv)


def add_label_masks(ap: argparse.ArgumentParser, help: str) -> None:
    """``--mask-labels SOURCE:LABEL ...`` (read with ``ner_data.parse_label_masks``), shared by training,
    selection and the greedy soup so that all three mask the same way."""
    ap.add_argument("--mask-labels", nargs="*", default=[], metavar="SOURCE:LABEL", help=help)


def emit_report(rep: dict[str, Any], module: str, argv: list[str] | None, out: Path | None, **dumps: Any) -> int:
    """Stamp the report with the command that reproduces it, print it and write it to ``out`` (if given)."""
    rep["command"] = f"python -m {module} " + " ".join(argv if argv is not None else sys.argv[1:])
    txt = json.dumps(rep, **dumps)
    print(txt)
    if out:
        out.write_text(txt, encoding="utf-8")
    return 0
