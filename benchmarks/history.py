"""History without a service: each main commit's counts in git notes, drawn on demand.

    python -m benchmarks history record COUNTS.json [--rev HEAD]   # attach counts to a commit
    python -m benchmarks history [-o FILE.png] [--rev main]        # draw and list the steps

``record`` stores the counts written by ``python -m benchmarks count -o COUNTS.json`` (per
case: instructions, blocks and bytes allocated per round) with a fingerprint of the
toolchain that counted them (Python, Cython, compiler, valgrind, CPU) as a note under
``refs/notes/benchmarks``. The default drawing walks the first-parent history, plots every
case, marks the commits where the fingerprint changed (a step there may be the toolchain's,
not the code's), and lists every exact step. Counts do not vary, so every step is a change.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NOTES = "refs/notes/benchmarks"


def _git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, input=stdin)


def _first_line(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    result = subprocess.run(command, capture_output=True, text=True)
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "unknown"


def fingerprint(repo: Path) -> dict[str, str]:
    """What the counts depend on besides the code."""
    cpu = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    # The Cython that builds the measured package: the repository's pin (the build is isolated).
    pins = (repo / "build-constraints.txt").read_text() if (repo / "build-constraints.txt").exists() else ""
    cython = next(
        (line.split("==", 1)[1].strip() for line in pins.splitlines() if line.startswith("Cython==")), "?"
    )
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cython": cython,
        "compiler": _first_line(["cc", "--version"]),
        "valgrind": _first_line(["valgrind", "--version"]),
        "cpu": cpu,
    }


def record(repo: Path, counts_file: Path, rev: str) -> int:
    counts = json.loads(counts_file.read_text())
    note = json.dumps({"fingerprint": fingerprint(repo), "counts": counts}, indent=1, sort_keys=True)
    result = _git(repo, "notes", "--ref", NOTES, "add", "-f", "-F", "-", rev, stdin=note)
    if result.returncode != 0:
        print(f"history: cannot add the note: {result.stderr.strip()}", file=sys.stderr)
        return 2
    print(f"history: {len(counts)} cases recorded on {rev} in {NOTES}")
    return 0


def load(repo: Path, rev: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(commit, subject, note) of every first-parent commit with a note, oldest first."""
    log = _git(repo, "log", "--first-parent", "--reverse", "--format=%H%x00%s", rev)
    if log.returncode != 0:
        raise ValueError(log.stderr.strip() or f"no history for {rev}")
    found = []
    for line in log.stdout.splitlines():
        commit, _, subject = line.partition("\x00")
        shown = _git(repo, "notes", "--ref", NOTES, "show", commit)
        if shown.returncode == 0:
            found.append((commit, subject, json.loads(shown.stdout)))
    return found


def _instructions(value: Any) -> float | None:
    # A case's entry: {"instructions": n, "blocks": ..., "bytes": ...}, or a bare count.
    figure = value.get("instructions") if isinstance(value, dict) else value
    return None if figure is None else float(figure)


def steps(history: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Every change of every case's instruction count, and every change of the toolchain."""
    lines = []
    previous: dict[str, float] = {}
    previous_print: dict[str, str] | None = None
    for commit, subject, note in history:
        if previous_print is not None and note["fingerprint"] != previous_print:
            changed = [k for k in note["fingerprint"] if note["fingerprint"][k] != previous_print.get(k)]
            lines.append(f"{commit[:12]} {subject[:50]}: toolchain changed ({', '.join(changed)})")
        previous_print = note["fingerprint"]
        for name in sorted(note["counts"]):
            figure = _instructions(note["counts"][name])
            if figure is None:
                continue
            if name in previous and figure != previous[name]:
                lines.append(
                    f"{commit[:12]} {subject[:50]}: {name} {previous[name]:,.1f} -> {figure:,.1f} "
                    f"({figure / previous[name]:.4f}x)"
                )
            previous[name] = figure
    return lines


def draw(history: list[tuple[str, str, dict[str, Any]]], output: Path) -> None:
    # The bench extra's matplotlib, imported only to draw.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({name for _, _, note in history for name in note["counts"]})
    fig, ax = plt.subplots(figsize=(10, 6))
    for name in names:
        points = [
            (i, _instructions(note["counts"][name]))
            for i, (_, _, note) in enumerate(history)
            if name in note["counts"]
        ]
        xs = [x for x, y in points if y is not None]
        ys = [y for _, y in points if y is not None]
        ax.plot(xs, ys, marker="o", markersize=3, label=name, drawstyle="steps-post")
    for i in range(1, len(history)):
        if history[i][2]["fingerprint"] != history[i - 1][2]["fingerprint"]:
            ax.axvline(i - 0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(history)), [commit[:7] for commit, _, _ in history], rotation=90, fontsize=7)
    ax.set_ylabel("instructions per round (log)")
    ax.set_title("fastfun: instruction counts over first-parent history (dashed: toolchain changed)")
    ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["record"]:
        parser = argparse.ArgumentParser(prog="python -m benchmarks history record")
        parser.add_argument("counts", help="the JSON written by python -m benchmarks count -o")
        parser.add_argument("--rev", default="HEAD")
        parser.add_argument("--repo", default=".")
        args = parser.parse_args(arguments[1:])
        return record(Path(args.repo), Path(args.counts), args.rev)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks history",
        description=(__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--output", help="draw every case into this PNG")
    parser.add_argument("--rev", default="HEAD", help="whose first-parent history (default: HEAD)")
    parser.add_argument("--repo", default=".")
    args = parser.parse_args(arguments)
    try:
        history = load(Path(args.repo), args.rev)
    except ValueError as error:
        print(f"history: {error}", file=sys.stderr)
        return 2
    if not history:
        print(f"history: no commit of {args.rev} has counts in {NOTES} (git fetch origin {NOTES}:{NOTES})")
        return 1
    print(f"history: {len(history)} commits with counts; every step:")
    for line in steps(history) or ["(no count ever changed)"]:
        print(f"  {line}")
    if args.output:
        draw(history, Path(args.output))
        print(f"history: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
