"""PyInstaller entry point: the ``tcm-desktop`` command (GUI by default, ``--self-test`` for a smoke check)."""

import sys

from tcm_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
