"""Shared fixtures: the shared-data location and a tiny real text model.

``tiny_run``/``tiny_model_dir`` run the real pipeline end to end on a few records (corpus
-> train -> ONNX export with parity check -> INT8 -> artifact with checksums)
so every engine/app test exercises real code rather than a stand-in.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tcm_desktop.config import data_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _shared_available() -> bool:
    return (data_dir() / "text" / "MANIFEST.md").exists()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data directory; skips (never in CI) when it is absent."""
    if not _shared_available():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {data_dir()}")
        pytest.skip(f"shared data not found at {data_dir()} (set TCM_DATA_DIR)")
    return data_dir()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny corpus of team records and a tiny model trained on it (a fixed 120 steps, so every machine gets the same model)."""
    pytest.importorskip("torch")
    from tcm_desktop.training import team_records, train_ner

    root = tmp_path_factory.mktemp("tiny")
    corpus = root / "corpus" / "team"
    corpus.mkdir(parents=True)
    splits = team_records.load_splits()
    for name, recs in (("train", splits["train"][:40]), ("dev", splits["dev"][:8]), ("test", splits["test"][:4])):
        with open(corpus / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    run = root / "run"
    rc = train_ner.main([
        "--corpus", str(root / "corpus"), "--out", str(run), "--size", "tiny", "--minutes", "20", "--max-steps", "120",
        "--sources", "team", "--eval-minutes", "10", "--team-weight", "1", "--lr", "3e-3",
    ])
    assert rc == 0
    return root / "corpus", run


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_run, tmp_path_factory) -> Path:
    """The tiny model exported and quantized into a model artifact (parity-checked at export)."""
    from tcm_desktop.training.export_ner import PARITY_TEXTS, load_run, sample_inputs, write_artifact

    model, vocab, lexicon, _ = load_run(tiny_run[1])
    ids, lex, mask = sample_inputs(vocab, lexicon, model.cfg.n_lex, PARITY_TEXTS, model.cfg.max_len)
    out = tmp_path_factory.mktemp("tiny_artifact") / "ner"
    write_artifact(model, vocab, lexicon, out, ids=ids, lex=lex, mask=mask, notes={"run": "tiny-test"})
    return out


@pytest.fixture(autouse=True)
def _windows_closed_by_tests_do_not_ask(monkeypatch):
    """A main window that pytest-qt closes at teardown would block on the modal save/discard question.

    Every window a test makes answers "discard" unless the test sets its own ``ask_unsaved``
    (the guard's own tests do, with the real question or a scripted answer).
    """
    mw = sys.modules.get("tcm_desktop.ui.main_window")
    if mw is None:
        return
    original = mw.MainWindow.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.ask_unsaved = lambda: "discard"

    monkeypatch.setattr(mw.MainWindow, "__init__", init)


@pytest.fixture
def fresh_passphrases(monkeypatch):
    """No passphrase remembered from another test and none from the environment."""
    from tcm_desktop.records import encryption

    monkeypatch.delenv(encryption.PASSPHRASE_ENV, raising=False)
    encryption.forget_passphrases()
    yield
    encryption.forget_passphrases()
