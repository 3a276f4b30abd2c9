"""The ablation table reads the evaluation files it is given, column by column."""

from __future__ import annotations

from tcm_desktop.training.compare_evals import rows


def result(f1: float, sign_f1: float) -> dict:
    per = {"SIGN": {"f1": sign_f1, "support": 10}, "HERB": {"f1": 1.0, "support": 0}}
    return {"sources": {"team": {"micro": {"f1": f1}, "macro_f1": f1 - 0.1, "per_label": per}}}


def test_rows_put_each_model_in_its_column_and_skip_empty_categories() -> None:
    table = rows({"a": result(0.5, 0.25), "b": result(0.75, 0.5)}, "team")
    assert table[0] == ["micro F1", "50.00", "75.00"]
    assert table[1] == ["macro F1", "40.00", "65.00"]
    assert ["SIGN (10)", "25.0", "50.0"] in table
    assert not any(r[0].startswith("HERB") for r in table)
