"""``python -m tcm_desktop``: the same as the ``tcm-desktop`` command."""

import sys

from tcm_desktop.cli import main

sys.exit(main())
