"""The PyInstaller bundle builds, carries the models, and analyses a record headless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / "models" / "ner" / "model.int8.onnx").exists(), reason="models/ner not trained yet")
def test_bundle_builds_and_self_tests(tmp_path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "QT_QPA_PLATFORM": "offscreen", "TCM_USER_DIR": str(tmp_path / "user"),
           "DIST_DIR": str(tmp_path / "dist"), "WORK_DIR": str(tmp_path / "build")}
    p = subprocess.run(["bash", str(REPO / "packaging" / "build.sh")], cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-4000:])
    bundle = tmp_path / "dist" / "tcm-desktop"
    assert (bundle / "tcm-desktop").exists()
    internal = next(bundle.rglob("models/ner/model.int8.onnx"), None)
    assert internal is not None, "the model is not in the bundle"
    assert not list(bundle.rglob("torch")), "torch must not be bundled"
    # the bundled binary structures a record without any Python environment
    rec = tmp_path / "r.txt"
    rec.write_text("主诉：胃脘胀痛3年。舌淡红，苔薄白，脉弦细。", encoding="utf-8")
    q = subprocess.run([str(bundle / "tcm-desktop"), "structure", str(rec)], capture_output=True, text=True, timeout=300,
                       env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "TCM_USER_DIR": str(tmp_path / "user")})
    assert q.returncode == 0, q.stderr[-2000:]
    assert '"entities"' in q.stdout
    # SQLCipher is in the bundle: save, encrypt, read back with the passphrase, refuse a wrong one
    db = tmp_path / "enc.sqlite3"
    base = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "TCM_USER_DIR": str(tmp_path / "user")}
    for args, key, rc in ((["structure", str(rec), "--db", str(db)], None, 0), (["db", "encrypt", "--db", str(db)], "k3y-phrase", 0),
                          (["db", "export", "--db", str(db)], "k3y-phrase", 0), (["db", "export", "--db", str(db)], "wrong", 3)):
        env = {**base, **({"TCM_DB_PASSPHRASE": key} if key else {})}
        r = subprocess.run([str(bundle / "tcm-desktop"), *args], capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == rc, (args, r.stderr[-2000:])
    assert "胃脘胀痛".encode() not in db.read_bytes()
