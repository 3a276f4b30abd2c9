#!/usr/bin/env bash
# Build the one-folder desktop bundle into dist/tcm-desktop and smoke-test it headless.
#   packaging/build.sh            (uses .venv/bin/python unless PYTHON is set)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
BIN="$(dirname "$PY")"

# 1. compile the UI translations (the .ts is the source; the .qm is what Qt loads)
if [ -x "$BIN/pyside6-lrelease" ]; then
    for lang in en zh_Hant; do
        "$BIN/pyside6-lrelease" "tcm_desktop/ui/translations/tcm_$lang.ts" -qm "tcm_desktop/ui/translations/tcm_$lang.qm"
    done
else
    echo "pyside6-lrelease not found; using the checked-in .qm files" >&2
fi

# 2. the model must be there: a bundle without it cannot analyse anything
if [ ! -d models/ner ]; then
    echo "models/ner is missing: train/export the model first" >&2
    exit 1
fi

# 3. build
DIST="${DIST_DIR:-dist}"
WORK="${WORK_DIR:-build/pyinstaller}"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$WORK" packaging/tcm_desktop.spec

# 4. smoke test the built app without a display
QT_QPA_PLATFORM=offscreen TCM_USER_DIR="$(mktemp -d)" "$DIST/tcm-desktop/tcm-desktop" --self-test
echo "built $DIST/tcm-desktop"
