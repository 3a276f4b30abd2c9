from __future__ import annotations

from tcm_desktop.training import leakage, team_records


def test_team_set_meets_the_counts() -> None:
    splits = team_records.load_splits()
    assert team_records.shortfalls(splits) == []
    assert len(splits["test"]) >= 100 and len(splits["dev"]) > 0


def test_test_records_are_not_in_the_train_pool() -> None:
    # Near-duplicate sentences and paraphrased records, not only whole-text copies (issue 15).
    splits = team_records.load_splits()
    found = leakage.leaks(splits["test"], splits["train"] + splits["dev"])
    assert [(f.rule, f.test_id, f.ref_id) for f in leakage.failing(found)] == []


def test_dev_split_is_deterministic() -> None:
    a = [r.id for r in team_records.load_splits()["dev"]]
    b = [r.id for r in team_records.load_splits()["dev"]]
    assert a == b
