"""fastfun's benchmark tooling: workloads, timings, instruction counts, Bencher output, the gate.

Maintainers' tooling only: it is not part of the wheel a user installs.
"""
