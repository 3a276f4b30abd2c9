"""``tcm-desktop rules``: one JSON line per rule from a database, clear errors otherwise."""

from __future__ import annotations

import csv
import io
import json

from tcm_desktop.cli import main
from tests.insights_toy import make_toy_db


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    rc = main(argv, stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def test_rules_jsonl_on_the_toy_clinic(tmp_path):
    db = make_toy_db(tmp_path / "toy.sqlite3")
    rc, out, err = _run(["rules", "--db", str(db), "--kind", "symptom-syndrome", "--min-count", "2"])
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0] == {"kind": "symptom-syndrome", "antecedent": ["恶寒"], "consequent": ["风寒束表证"], "count": 2,
                       "support": 0.4, "confidence": 0.666667, "lift": 1.666667, "conviction": 1.8}
    assert [(r["antecedent"], r["confidence"], r["lift"]) for r in rows[1:]] == [(["头痛"], 0.5, 1.25)]
    assert "2 rules from 5 records" in err
    rc, out, _ = _run(["rules", "--db", str(db), "--min-count", "2", "--min-confidence", "0.9", "--reviewed-only"])
    kinds = {json.loads(line)["kind"] for line in out.splitlines()}
    assert rc == 0 and kinds == {"syndrome-formula", "formula-herb", "symptom-syndrome"}


def test_rules_csv(tmp_path):
    db = make_toy_db(tmp_path / "toy.sqlite3")
    rc, out, _ = _run(["rules", "--db", str(db), "--kind", "syndrome-formula", "--min-count", "2", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and len(rows) == 1
    assert rows[0]["antecedent"] == "风寒束表证" and rows[0]["consequent"] == "荆防败毒散" and rows[0]["lift"] == "2.5"


def test_rules_errors_are_one_line(tmp_path):
    rc, out, err = _run(["rules", "--db", str(tmp_path / "missing.sqlite3")])
    assert rc == 3 and out == "" and err.strip().count("\n") == 0 and "no database" in err
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    rc, _, err = _run(["rules", "--db", str(bad)])
    assert rc == 3 and err.startswith("error: cannot read the database")
    rc, _, err = _run(["rules", "--db", str(bad), "--min-confidence", "2"])
    assert rc == 1 and "--min-confidence" in err


def test_rules_into_a_closed_pipe_is_not_an_error(tmp_path):
    class ClosedPipe(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    rc = main(["rules", "--db", str(make_toy_db(tmp_path / "toy.sqlite3"))], stdout=ClosedPipe(), stderr=err)
    assert rc == 0 and "Traceback" not in err.getvalue()
