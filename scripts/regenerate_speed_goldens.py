"""Rewrite the golden files of ``tests/test_speed_identity.py`` from the current engine.

    python scripts/regenerate_speed_goldens.py

Run it only after a deliberate change of what the engine outputs (a new shipped
model, new assertion cues), never to make a failing speed change pass: the
inputs stay the ones already in the golden files; only the outputs are redone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcm_desktop.structured import FoundEntity  # noqa: E402
from tcm_desktop.text.assertion import assign_assertions  # noqa: E402
from tcm_desktop.text.engine import StructuringEngine  # noqa: E402

DATA = REPO / "tests" / "data"
CODE = {"present": "P", "absent": "A", "possible": "U", "history": "H", "family": "F"}


def main() -> int:
    golden_path = DATA / "golden_team_test.jsonl"
    items = [(g["id"], g["text"]) for g in map(json.loads, golden_path.read_text(encoding="utf-8").splitlines())]
    engine = StructuringEngine(REPO / "models" / "ner", max_batch_tokens=4096, window_features_above=4000)
    lines = [json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=True) for r in engine.structure_many(items)]
    golden_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assertions_path = DATA / "golden_assertions_gold_spans.json"
    assertions = json.loads(assertions_path.read_text(encoding="utf-8"))
    for g in assertions.values():  # the records and gold spans already there are the inputs
        ents = [FoundEntity(a, b, label, g["text"][a:b]) for a, b, label in g["spans"]]
        assign_assertions(g["text"], ents)
        g["codes"] = "".join(CODE[e.assertion] for e in ents)
    assertions_path.write_text(json.dumps(assertions, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(items)} engine records, {len(assertions)} assertion records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
