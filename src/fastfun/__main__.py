"""``python -m fastfun``: the same command line as the ``fastfun`` script."""

import sys

from .cli import main

sys.exit(main())
