"""The model chooser (pytest-qt, offscreen) and the Qt-free model registry it draws: list, switch, switch back,
and "improve" running a background process whose new model is shown before switching."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

import tcm_desktop.ui  # noqa: E402,F401
from tcm_desktop import local_models  # noqa: E402
from tcm_desktop.config import models_dir  # noqa: E402


@pytest.fixture
def user(tmp_path, monkeypatch):
    monkeypatch.setenv("TCM_USER_DIR", str(tmp_path / "user"))
    return tmp_path / "user"


def _local_model(user, name: str, version: str) -> None:
    d = user / "models" / name
    d.mkdir(parents=True)
    (d / "model.json").write_text(json.dumps({"version": version}), encoding="utf-8")
    (d / "MODEL_CARD.md").write_text(f"# Adapted text model `{version}`\n\n| set | old F1 | new F1 |\n", encoding="utf-8")


def test_registry_switch_and_rollback(user) -> None:
    assert local_models.active_model_dir() == models_dir() / "ner"
    _local_model(user, "ner-adapt-1", "ner-adapt-1")
    (user / "models" / "x.work").mkdir()  # an unfinished run is not a model
    names = [e.name for e in local_models.list_models()]
    assert names == ["shipped", "ner-adapt-1"]
    local_models.set_active("ner-adapt-1")
    assert local_models.active_model_dir() == user / "models" / "ner-adapt-1"
    local_models.set_active("shipped")
    assert local_models.active_model_dir() == models_dir() / "ner"
    with pytest.raises(ValueError):
        local_models.set_active("nope")
    local_models.set_active("ner-adapt-1")
    shutil.rmtree(user / "models" / "ner-adapt-1")  # a vanished model falls back to the shipped one
    assert local_models.active_name() == "shipped"


def _fake_adapt(tmp_path, user, sleep: float = 0.0) -> list[str]:
    """A stand-in for ``tcm-desktop adapt``: same JSON-lines protocol, writes a model folder."""
    script = tmp_path / "fake_adapt.py"
    script.write_text(textwrap.dedent(f"""
        import json, pathlib, time
        print(json.dumps({{"event": "data", "reviewed": 50}}), flush=True)
        time.sleep({sleep})
        out = pathlib.Path({str(user / "models" / "ner-adapt-2")!r})
        out.mkdir(parents=True)
        (out / "model.json").write_text(json.dumps({{"version": "ner-adapt-2"}}))
        (out / "MODEL_CARD.md").write_text("# Adapted text model `ner-adapt-2`\\n\\nclinic held-out 70.0 -> 80.0\\n")
        print(json.dumps({{"event": "done", "accepted": True, "out": str(out), "reason": "accepted"}}), flush=True)
    """), encoding="utf-8")
    return [sys.executable, str(script)]


def test_dialog_improve_shows_the_new_card_then_switch_and_back(qtbot, tmp_path, user) -> None:
    from tcm_desktop.ui.models_dialog import ModelsDialog

    dlg = ModelsDialog(tmp_path / "db.sqlite3", program=_fake_adapt(tmp_path, user))
    qtbot.addWidget(dlg)
    assert dlg.list.count() == 1 and dlg.selected_name() == "shipped"
    dlg.improve()
    assert not dlg.btn_improve.isEnabled() and dlg.btn_cancel.isEnabled()
    qtbot.waitUntil(lambda: dlg.process is None, timeout=20000)
    assert dlg.list.count() == 2 and dlg.selected_name() == "ner-adapt-2"
    assert "70.0 -> 80.0" in dlg.card.toPlainText()  # the comparison is shown before switching
    assert local_models.active_name() == "shipped"  # nothing switched yet
    with qtbot.waitSignal(dlg.model_changed) as sig:
        dlg.use_selected()
    assert sig.args == [str(user / "models" / "ner-adapt-2")]
    dlg.list.setCurrentRow(0)
    dlg.use_selected()
    assert local_models.active_name() == "shipped"


def test_dialog_cancel_kills_the_process(qtbot, tmp_path, user) -> None:
    from tcm_desktop.ui.models_dialog import ModelsDialog

    dlg = ModelsDialog(tmp_path / "db.sqlite3", program=_fake_adapt(tmp_path, user, sleep=30))
    qtbot.addWidget(dlg)
    dlg.improve()
    qtbot.waitUntil(lambda: "读取" in dlg.status.text() or "Reading" in dlg.status.text(), timeout=20000)
    dlg.cancel()
    qtbot.waitUntil(lambda: dlg.process is None, timeout=10000)
    assert dlg.btn_improve.isEnabled() and not (user / "models" / "ner-adapt-2").exists()
    assert [e.name for e in local_models.list_models()] == ["shipped"]


def test_dictionary_dialog_collects_edits_and_saves(qtbot, tmp_path, user) -> None:
    from tcm_desktop.records.database import Database
    from tcm_desktop.structured import FoundEntity, Prescription, StructuredRecord
    from tcm_desktop.text.clinic_dictionary import ClinicDictionary
    from tcm_desktop.ui.dictionary_dialog import DictionaryDialog

    db_path = tmp_path / "c.db"
    db = Database(db_path)
    db.save_record(StructuredRecord("r1", "胃痞，纳呆", [FoundEntity(0, 2, "TCM_DISEASE", "胃痞", status="added"),
                                                      FoundEntity(3, 5, "SYMPTOM", "纳呆")], [], Prescription(), "m"))
    db.close()
    path = tmp_path / "dict.json"
    ClinicDictionary({"乾坤倒转感": "SYMPTOM"}).save(path)
    dlg = DictionaryDialog(db_path, path=path)
    qtbot.addWidget(dlg)
    assert dlg.rows() == [("乾坤倒转感", "SYMPTOM")]
    assert dlg.collect() == 1 and ("胃痞", "TCM_DISEASE") in dlg.rows()  # the unreviewed 纳呆 is not collected
    assert dlg.collect() == 0  # no duplicates
    dlg.table.setCurrentCell(0, 0)
    dlg._remove_row()
    dlg.rule.setChecked(False)
    with qtbot.waitSignal(dlg.saved):
        dlg.save()
    saved = ClinicDictionary.load(path)
    assert saved.terms == {"胃痞": "TCM_DISEASE"} and saved.rule is False


def test_improve_without_torch_says_how_to_install(qtbot, tmp_path, user, monkeypatch) -> None:
    from tcm_desktop.ui import models_dialog

    monkeypatch.setattr(models_dialog, "training_available", lambda: False)
    dlg = models_dialog.ModelsDialog(tmp_path / "db.sqlite3")
    qtbot.addWidget(dlg)
    dlg.improve()
    assert dlg.process is None and "tcm-desktop[train]" in dlg.status.text()
