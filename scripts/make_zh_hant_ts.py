"""Write ``tcm_desktop/ui/translations/tcm_zh_Hant.ts`` (繁體中文) and compile it to ``.qm``.

    PYTHONPATH=. python scripts/make_zh_hant_ts.py

The source strings are those of ``tcm_en.ts`` (every UI string, checked by
``tests/test_ui_main.py``); each translation is OpenCC ``s2t`` of the source.
Entries already in an existing ``tcm_zh_Hant.ts`` are kept, so a reviewer's
corrections survive a rerun. ``pyside6-lrelease`` (in the PySide6 wheels)
compiles the ``.qm`` the app loads; both files are checked in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcm_desktop.text.script import to_traditional  # noqa: E402

TRANSLATIONS = REPO / "tcm_desktop" / "ui" / "translations"


def main() -> int:
    sources = [m.findtext("source") or "" for m in ET.parse(TRANSLATIONS / "tcm_en.ts").getroot().iter("message")]
    target = TRANSLATIONS / "tcm_zh_Hant.ts"
    kept: dict[str, str] = {}
    if target.exists():
        kept = {m.findtext("source") or "": m.findtext("translation") or ""
                for m in ET.parse(target).getroot().iter("message")}
    ts = ET.Element("TS", version="2.1", language="zh_TW", sourcelanguage="zh_CN")
    ctx = ET.SubElement(ts, "context")
    ET.SubElement(ctx, "name").text = "tcm"
    for src in sources:
        msg = ET.SubElement(ctx, "message")
        ET.SubElement(msg, "source").text = src
        ET.SubElement(msg, "translation").text = kept.get(src) or to_traditional(src)
    ET.indent(ts)
    target.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n'
                      + ET.tostring(ts, encoding="unicode") + "\n", encoding="utf-8")
    lrelease = shutil.which("pyside6-lrelease") or str(Path(sys.executable).parent / "pyside6-lrelease")
    subprocess.run([lrelease, str(target), "-qm", str(target.with_suffix(".qm"))], check=True)
    print(f"{len(sources)} strings -> {target.name}, {target.with_suffix('.qm').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
