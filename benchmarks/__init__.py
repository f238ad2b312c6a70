"""fastfun's benchmark tooling: workloads, timings, instruction counts, Bencher output, the gate.

Maintainers' tooling only: it is not part of the wheel a user installs.
"""

import sys
from pathlib import Path

# The tests' helpers (children.py, live_server.py) are the tooling's too: they live with the
# tests, which travel in the sdist without this package, and are imported from there.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
