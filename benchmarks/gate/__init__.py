"""The benchmark gate: block a performance regression before it merges.

    python -m benchmarks.gate --base REV [--head REV] [--threshold 0.03] [--cases TEXT]

Both revisions are built from git into virtual environments of their own (this Python, the
base's pinned Cython, the ``api`` and ``gmp`` extras at the versions of
``benchmarks/constraints.txt``) and counted here, with the base's workloads and rules:

- decisive: instructions per round (callgrind, counting only the rounds), head / base; above
  1 + threshold fails. Counts are exact, so an unchanged case reads 1.000; a case that is not
  ok is counted again and must give the same figures, or the gate cannot decide;
- tripwire: wall time over interleaved base/head pairs, failing only above 1.5x; a head over
  20x its base, counted or timed, is stopped and is a regression.

Exit status: 0 no regression, 1 regression, 2 could not decide (one line says why).

Builds are cached in ``FASTFUN_GATE_CACHE`` (default: ``fastfun-gate`` in the temporary
folder), at most ``FASTFUN_GATE_CACHE_BUILDS`` of them (default in ``cache``), shared safely by
gates running at once.

Modules: ``builds`` (a revision into a cached venv), ``cache`` (the bounded, locked cache),
``judge`` (rules, acceptance, verdicts), ``tripwire`` (the timing), ``run`` (one gate run,
its table).
"""
