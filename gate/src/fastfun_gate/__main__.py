"""``python -m fastfun_gate``: the same command line as ``fastfun-gate``."""

import sys

from fastfun_gate.cli import main

sys.exit(main())
