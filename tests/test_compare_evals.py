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


def test_ci_cells_bracket_the_paired_change_and_are_blank_without_record_counts() -> None:
    same = [[1, 1, 1]] * 40
    better = [[1, 1, 1]] * 40
    worse = [[0, 1, 1]] * 20 + [[1, 1, 1]] * 20
    a, b, c = result(1.0, 1.0), result(1.0, 1.0), result(0.5, 0.5)
    a["sources"]["team"]["record_counts"] = {"micro": same, "SIGN": same}
    b["sources"]["team"]["record_counts"] = {"micro": better, "SIGN": better}
    c["sources"]["team"]["record_counts"] = {"micro": worse, "SIGN": worse}
    table = rows({"a": a, "b": b, "c": c}, "team", ci=True)
    assert table[0][1] == "100.00"
    assert table[0][2] == "100.00 [+0.0, +0.0]"
    lo, hi = (float(x) for x in table[0][3].split("[")[1].rstrip("]").split(","))
    assert hi < 0 and lo < hi  # half the records lost their one entity: a clear loss
    assert table[1] == ["macro F1", "90.00", "90.00", "40.00"]  # no interval on macro
    plain = rows({"a": result(0.5, 0.25), "b": result(0.75, 0.5)}, "team", ci=True)
    assert plain[0] == ["micro F1", "50.00", "75.00"]


def test_label_record_counts_keep_each_label_apart() -> None:
    from tcm_desktop.training.metrics import label_record_counts

    gold = [{(0, 2, "SIGN"), (3, 5, "HERB")}, {(0, 1, "SIGN")}]
    pred = [{(0, 2, "SIGN"), (3, 4, "HERB")}, set()]
    out = label_record_counts(gold, pred, ["SIGN", "HERB"])
    assert out["micro"] == [[1, 2, 2], [0, 0, 1]]
    assert out["SIGN"] == [[1, 1, 1], [0, 0, 1]]
    assert out["HERB"] == [[0, 1, 1], [0, 0, 0]]


def test_file_rows_give_each_writing_style_its_row_and_a_dash_where_a_file_lacks_the_label() -> None:
    from tcm_desktop.training.compare_evals import file_rows

    def res(f1: float) -> dict:
        return {"sources": {"team": {"by_file": {
            "ward": {"micro": {"f1": f1, "support": 9}, "per_label": {"CAUSE": {"f1": f1, "support": 4}}},
            "clinic": {"micro": {"f1": 1.0, "support": 3}, "per_label": {}},
        }}}}

    table = file_rows({"a": res(0.5), "b": res(0.75)}, "team", "CAUSE")
    assert table == [["clinic", "–", "–"], ["ward", "50.0 (4)", "75.0 (4)"]]
    assert file_rows({"a": res(0.5)}, "team", "micro")[1] == ["ward", "50.0 (9)"]


def test_evaluate_groups_team_records_by_the_file_in_their_id() -> None:
    from tcm_desktop.training.evaluate import by_file

    recs = [{"id": "team-test-ward_discharge-wd01", "annotated": ["CAUSE"]},
            {"id": "team-test-ward_discharge-wd02", "annotated": ["CAUSE"]},
            {"id": "team-test-test_1-t01", "annotated": ["CAUSE"]}]
    gold = [[(0, 2, "CAUSE")], [(0, 2, "CAUSE")], [(1, 3, "CAUSE")]]
    pred = [[(0, 2, "CAUSE")], [], [(1, 3, "CAUSE")]]
    out = by_file(recs, gold, pred)
    assert sorted(out) == ["test_1", "ward_discharge"]
    assert out["ward_discharge"]["records"] == 2
    assert out["ward_discharge"]["per_label"]["CAUSE"]["support"] == 2
    assert abs(out["ward_discharge"]["per_label"]["CAUSE"]["f1"] - 2 / 3) < 1e-9
    assert out["test_1"]["micro"]["f1"] == 1.0
