"""Model choice: every run is scored on the same dev records, and a weight soup is a fair candidate."""

from __future__ import annotations

import json
import shutil

import pytest

from tcm_desktop.training.selection import selection_dev_sets, selection_score

torch = pytest.importorskip("torch")

from tcm_desktop.training import selection, soup  # noqa: E402


def _corpus(n_public: int, n_team: int = 5) -> dict:
    def recs(prefix: str, n: int) -> list[dict]:
        return [{"id": f"{prefix}{i}", "text": "x", "entities": [], "annotated": []} for i in range(n)]

    return {
        "team": {"dev": recs("t", n_team)},
        "ccks2019": {"dev": recs("c", n_public)},
        "cshan": {"dev": recs("s", n_public)},
    }


def test_public_dev_samples_do_not_depend_on_the_other_sources_or_the_order() -> None:
    full = selection_dev_sets(_corpus(50), 10)
    alone = selection_dev_sets({"cshan": _corpus(50)["cshan"]}, 10)
    reordered = selection_dev_sets(dict(reversed(list(_corpus(50).items()))), 10)
    assert (
        [r["id"] for r in full["cshan"]] == [r["id"] for r in alone["cshan"]] == [r["id"] for r in reordered["cshan"]]
    )
    assert len(full["ccks2019"]) == 10 and len(full["team"]) == 5  # team dev is never sampled
    assert {r["id"] for r in full["ccks2019"]} != {f"c{i}" for i in range(10)}  # a sample, not the first ten


def test_selection_score_weighs_team_against_the_public_mean() -> None:
    assert selection_score({"team": 0.9, "a": 0.6, "b": 0.8}) == pytest.approx(0.8)
    assert selection_score({"team": 0.9}) == pytest.approx(0.9)
    assert selection_score({"a": 0.6, "b": 0.8}) == pytest.approx(0.7)


def test_the_training_log_and_the_selection_command_score_a_checkpoint_alike(tiny_run, tmp_path) -> None:
    corpus, run = tiny_run
    log = [json.loads(line) for line in (run / "train.log").read_text(encoding="utf-8").splitlines()]
    saved = [e["selection"] for e in log if e["event"] == "saved"][-1]
    (row,) = selection.score_runs(corpus, [run], per_source=120, sources=["team"])
    assert row["selection"] == pytest.approx(saved, abs=1e-4)


def test_a_soup_of_a_run_with_itself_is_that_run_and_two_runs_average(tiny_run, tmp_path) -> None:
    _, run = tiny_run
    twin = tmp_path / "twin"
    shutil.copytree(run, twin)
    state = torch.load(run / "model.pt", weights_only=True)
    zeroed = {k: torch.zeros_like(v) if v.is_floating_point() else v for k, v in state.items()}
    torch.save(zeroed, twin / "model.pt")

    soup.average_runs([run, run], tmp_path / "same")
    same = torch.load(tmp_path / "same" / "model.pt", weights_only=True)
    assert all(torch.equal(same[k], state[k]) for k in state)

    soup.average_runs([run, twin], tmp_path / "half")
    half = torch.load(tmp_path / "half" / "model.pt", weights_only=True)
    k = next(k for k, v in state.items() if v.is_floating_point() and v.abs().sum() > 0)
    assert torch.allclose(half[k], state[k] / 2)
    assert (tmp_path / "half" / "vocab.json").read_bytes() == (run / "vocab.json").read_bytes()


def test_a_soup_refuses_runs_that_read_other_characters(tiny_run, tmp_path) -> None:
    _, run = tiny_run
    other = tmp_path / "other"
    shutil.copytree(run, other)
    vocab = json.loads((run / "vocab.json").read_text(encoding="utf-8"))
    (other / "vocab.json").write_text(json.dumps(vocab[:-1] + ["龘"], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SystemExit, match="vocab"):
        soup.average_runs([run, other], tmp_path / "bad")
    assert not (tmp_path / "bad" / "model.pt").exists()


def test_greedy_soup_keeps_an_ingredient_only_when_dev_does_not_drop(tiny_run, tmp_path) -> None:
    _, run = tiny_run
    state = torch.load(run / "model.pt", weights_only=True)
    runs = {}
    for name, scale in (("good", 1.0), ("half", 0.5), ("bad", 0.0)):
        d = tmp_path / name
        shutil.copytree(run, d)
        torch.save({k: v * scale if v.is_floating_point() else v for k, v in state.items()}, d / "model.pt")
        runs[name] = d
    k = next(k for k, v in state.items() if v.is_floating_point() and v.abs().sum() > 0)
    ref = state[k].abs().sum().item()

    def score(path) -> dict:
        # a stand-in dev score: how close the weights are to the "good" run's
        w = torch.load(path / "model.pt", weights_only=True)[k].abs().sum().item()
        s = 1.0 - abs(w - ref) / ref
        return {"run": str(path), "dev_f1": {"team": s}, "selection": s}

    log = soup.greedy_soup([runs["bad"], runs["half"], runs["good"]], tmp_path / "out", score)
    assert [r["run"] for r in log if r["step"] == "ingredient"] == [str(runs[n]) for n in ("good", "half", "bad")]
    assert [r["kept"] for r in log if r["step"] == "try"] == [False, False]
    assert log[-1]["soup"] == [str(runs["good"])]
    assert torch.equal(torch.load(tmp_path / "out" / "model.pt", weights_only=True)[k], state[k])

    flat = lambda path: {"run": str(path), "dev_f1": {}, "selection": 0.5}  # noqa: E731 - ties are kept
    log = soup.greedy_soup([runs["good"], runs["bad"]], tmp_path / "tie", flat)
    assert log[-1]["soup"] == [str(runs["good"]), str(runs["bad"])]
    assert torch.allclose(torch.load(tmp_path / "tie" / "model.pt", weights_only=True)[k], state[k] / 2)
