"""``python -m tcm_desktop``: the same as the ``tcm-desktop`` command."""

import sys

from .cli import main

sys.exit(main())
