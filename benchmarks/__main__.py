"""fastfun's benchmark tooling, one command line.

    python -m benchmarks [run] [--no-instructions] [--out DIR]   # the main job
    python -m benchmarks bmf RESULTS [--instructions] [-o FILE]   # Bencher Metric Format
    python -m benchmarks plot RESULTS [-o FILE]                   # the picture
    python -m benchmarks server [--seconds N]                     # the API through real servers

The main job runs the suite, counts instructions (``fastfun-gate count``, as the gate counts
them), prints the comparison and the goals, and
writes ``results.json`` (pytest-benchmark, for Bencher's python_pytest adapter),
``instructions.json``, ``bmf.json`` (Bencher Metric Format) and ``benchmarks.png`` to DIR
(default ``.benchmarks-out``). Exit status 1 when a speed goal is missed. The gate itself, its
bisect and the counts' history are fastfun-gate's commands (``docs/gate.md``), configured in
``pyproject.toml``'s ``[tool.fastfun-gate]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import bmf, goals, instructions, plot, results, server
from benchmarks.workloads import BY_FULLNAME, BY_NAME, CASES, workloads


def _human(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.3f} {unit:2}"
    return f"{seconds * 1e9:8.1f} ns"


def comparison(times: dict[str, float], counts: dict[str, float]) -> str:
    rows = [f"{'benchmark':<36} {'median time':>12} {'x limit':>9} {'instructions':>14} {'x limit':>8}"]
    for workload in workloads():
        for case in (c for c in CASES if c.workload == workload):
            limit = next(
                (
                    c.name
                    for c in CASES
                    if c.workload == workload and c.version == case.version and c.implementation == "limit"
                ),
                None,
            )
            t, n = times.get(case.name), counts.get(case.name)
            t_ratio = f"{t / times[limit]:9.2f}" if t and limit in times else " " * 9
            n_ratio = f"{n / counts[limit]:8.2f}" if n and limit in counts else " " * 8
            rows.append(
                f"{case.name:<36} {_human(t) if t else '':>12} {t_ratio} "
                f"{(f'{n:,.0f}' if n is not None else ''):>14} {n_ratio}"
            )
    return "\n".join(rows)


def goal_report(times: dict[str, float], counts: dict[str, float]) -> tuple[str, bool]:
    figures = {"time": times, "instructions": counts}
    lines, all_met = [], True
    for goal in goals.goals():
        ratio = goal.ratio(figures)
        if ratio is None:
            verdict, shown, all_met = "NOT MEASURED", "-", False
        else:
            met = goal.met(ratio)
            all_met &= met
            verdict, shown = ("met" if met else "MISSED"), f"{ratio:,.2f}x"
        lines.append(
            f"{goal.text:<50} {shown:>14}  goal {goal.compare} {goal.target:,g}x  [{goal.measure}]  {verdict}"
        )
    return "\n".join(lines), all_met


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    commands: dict[str, Callable[[Sequence[str]], int]] = {
        "bmf": bmf.main,
        "plot": plot.main,
        "server": server.main,
    }
    if arguments[:1] and arguments[0] in commands:
        return commands[arguments[0]](arguments[1:])
    return run(arguments[1:] if arguments[:1] == ["run"] else arguments)


def run(argv: Sequence[str]) -> int:
    """The main job."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=".benchmarks-out", help="where the files go")
    parser.add_argument("--no-instructions", action="store_true", help="skip callgrind")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"

    print("== timing the suite with pytest-benchmark", flush=True)
    run = results.time_suite(results_file, "--benchmark-columns=median,iqr,rounds", "--benchmark-sort=name")
    if run.returncode != 0:
        print("benchmarks: the suite failed", file=sys.stderr)
        return 2
    benchmarks = results.load_for("benchmarks", str(results_file))
    if benchmarks is None:
        return 2
    # The suite's cases by their short names, which the comparison, the goals and the counter use.
    timed = {BY_FULLNAME[b.fullname].name: b for b in benchmarks if b.fullname in BY_FULLNAME}
    times = {name: bench.median for name, bench in timed.items()}

    counts: dict[str, float] = {}
    if not args.no_instructions:
        why_not = instructions.missing()
        if why_not is None:
            print(
                "== counting instructions with fastfun-gate (callgrind; every benchmark, a line each)",
                flush=True,
            )
            try:
                counted = instructions.count()
            except RuntimeError as error:
                print(f"benchmarks: counting failed: {error}", file=sys.stderr)
                return 2
            counts.update({BY_FULLNAME[name].name: n for name, n in counted.items() if name in BY_FULLNAME})
            (out / "instructions.json").write_text(json.dumps(counts, indent=2) + "\n")
        else:
            print(f"== instruction counts and their goals are not measured: {why_not}")

    machine = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    try:
        by_fullname = {BY_NAME[name].fullname: n for name, n in counts.items()}
        (out / "bmf.json").write_text(bmf.dumps(bmf.to_bmf(benchmarks, by_fullname or None)))
        plot.plot(benchmarks, str(out / "benchmarks.png"), f"fastfun benchmarks ({machine})")
    except results.Refused as error:
        print(f"benchmarks: {results_file}: {error}", file=sys.stderr)
        return 2

    print(f"\n== comparison ({machine}; time: median per round)")
    print(comparison(times, counts))
    report, met = goal_report(times, counts)
    print("\n== speed goals")
    print(report)
    print(f"\nwrote {results_file}, {out / 'bmf.json'}, {out / 'benchmarks.png'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
