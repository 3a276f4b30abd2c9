"""The installed Qt binding keeps Python's reference counts intact.

PySide6-Essentials 6.12.0 on CPython 3.11 drops a reference to ``None`` on
every ``void`` call and crashes the app within seconds; this test fails on
such a binding (run in a child process, since the failure is an abort).
"""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
before = sys.getrefcount(None)
for i in range(20000):
    label.setText(str(i))
print(sys.getrefcount(None) - before)
"""


def test_void_qt_calls_do_not_leak_or_drop_none_references() -> None:
    p = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60,
                       env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr[-500:]
    assert abs(int(p.stdout.strip())) < 100
