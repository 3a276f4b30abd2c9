from __future__ import annotations

from tcm_desktop.training import team_records


def test_team_set_meets_the_counts() -> None:
    splits = team_records.load_splits()
    assert team_records.shortfalls(splits) == []
    assert len(splits["test"]) >= 100 and len(splits["dev"]) > 0


def test_test_records_are_not_in_the_train_pool() -> None:
    splits = team_records.load_splits()
    train_texts = {r.text for r in splits["train"] + splits["dev"]}
    assert not any(r.text in train_texts for r in splits["test"])
    train_lines = {line for r in splits["train"] for line in r.text.splitlines() if len(line) > 40}
    shared = [line for r in splits["test"] for line in r.text.splitlines() if line in train_lines]
    assert len(shared) <= 3, shared[:3]


def test_dev_split_is_deterministic() -> None:
    a = [r.id for r in team_records.load_splits()["dev"]]
    b = [r.id for r in team_records.load_splits()["dev"]]
    assert a == b
