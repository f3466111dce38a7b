"""``python -m metaopt``: the ``metaopt`` command (for an environment without its script
on the PATH)."""

import sys

from metaopt.cli import main

sys.exit(main())
