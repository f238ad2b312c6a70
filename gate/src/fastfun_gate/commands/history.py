"""History without a service: each commit's counts in git notes, listed or drawn on demand.

    fastfun-gate history record [--rev HEAD]            # count REV, attach its figures as a note
    fastfun-gate history record --report gate.json     # or take the head's from a compare report
    fastfun-gate history show [--rev main]              # every step of every benchmark
    fastfun-gate history plot -o history.png [--rev main]   # needs fastfun-gate[plot]

Notes live under ``refs/notes/fastfun-gate`` (share them: ``git push origin
refs/notes/fastfun-gate``). Each holds, per benchmark, instructions, allocations and retained
bytes per call, with a fingerprint of what counted them (Python, valgrind, compiler, CPU):
counts are exact, so every step is a change, of the code or, where the fingerprint changed,
of the toolchain.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from fastfun_gate import __version__, config, git, report
from fastfun_gate.commands import Command, options
from fastfun_gate.compare import MEMORY
from fastfun_gate.errors import Undecided, UsageError

NOTES = "refs/notes/fastfun-gate"


def _first_line(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    done = subprocess.run(command, capture_output=True, text=True)
    return ((done.stdout or done.stderr).strip().splitlines() or ["unknown"])[0]


def fingerprint() -> dict[str, str]:
    """What a count depends on besides the code."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "valgrind": _first_line(["valgrind", "--version"]),
        "compiler": _first_line(["cc", "--version"]),
        "cpu": cpu,
        "gate": __version__,
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _record(args: argparse.Namespace) -> int:
    repo = options.repo_of(args)
    if args.report:
        data = report.load(Path(args.report))
        if not data.get("head"):
            raise UsageError(f"{args.report}: the report names no head revision")
        commit = data["head"]["commit"]
        figures = {
            item["name"]: {"instructions": item["head"], **((item.get("memory") or {}).get("head") or {})}
            for item in data["benchmarks"]
            if item["head"] is not None
        }
    else:
        options.need_valgrind()
        commit = git.commit_of(repo, args.rev)
        settings = config.of_revision(repo, commit, options.flags_of(args))
        counts = options.count_revision(repo, commit, settings, settings.select, Path(args.out).resolve())
        failed = [name for name, counted in counts.items() if counted.instructions is None]
        if failed:
            raise Undecided(f"{failed[0]} cannot be counted: {counts[failed[0]].error}")
        figures = {
            name: {"instructions": counted.instructions, **{m: getattr(counted, m) for m in MEMORY}}
            for name, counted in counts.items()
        }
    if not figures:
        raise Undecided("no benchmark to record")
    note = json.dumps(
        {"schema_version": 1, "fingerprint": fingerprint(), "benchmarks": figures}, indent=1, sort_keys=True
    )
    done = subprocess.run(
        ["git", "-C", str(repo), "notes", "--ref", NOTES, "add", "-f", "-F", "-", commit],
        input=note,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise Undecided(f"git notes: {done.stderr.strip()}")
    print(f"recorded {len(figures)} benchmark(s) on {commit[:12]} in {NOTES}")
    return 0


def load(repo: Path, rev: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(commit, subject, note) of every first-parent commit of ``rev`` with a note, oldest first."""
    noted = {}
    listing = subprocess.run(
        ["git", "-C", str(repo), "notes", "--ref", NOTES, "list"], capture_output=True, text=True
    )
    for line in listing.stdout.splitlines():
        blob, commit = line.split()
        noted[commit] = blob
    found = []
    for line in git.git(repo, "log", "--first-parent", "--reverse", "--format=%H%x00%s", rev).splitlines():
        commit, _, subject = line.partition("\x00")
        if commit in noted:
            try:
                note = json.loads(git.git(repo, "cat-file", "blob", noted[commit]))
                found.append(
                    (commit, subject, {"fingerprint": note["fingerprint"], "benchmarks": note["benchmarks"]})
                )
            except (ValueError, KeyError, TypeError):
                raise UsageError(
                    f"the note on {commit[:12]} in {NOTES} is not a fastfun-gate record"
                ) from None
    return found


def steps(history: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Every change of every benchmark's instructions per call, and every toolchain change."""
    lines = []
    previous: dict[str, int] = {}
    printed: dict[str, str] | None = None
    for commit, subject, note in history:
        if printed is not None and note["fingerprint"] != printed:
            changed = [k for k in note["fingerprint"] if note["fingerprint"][k] != printed.get(k)]
            lines.append(f"{commit[:12]} {subject[:50]}: toolchain changed ({', '.join(changed)})")
        printed = note["fingerprint"]
        for name, figures in sorted(note["benchmarks"].items()):
            figure = figures.get("instructions")
            if figure is None:
                continue
            if name in previous and figure != previous[name]:
                ratio = figure / previous[name] if previous[name] else float("inf")
                lines.append(
                    f"{commit[:12]} {subject[:50]}: {name} {previous[name]:,} -> {figure:,} ({ratio:.4f}x)"
                )
            previous[name] = figure
    return lines


def draw(history: list[tuple[str, str, dict[str, Any]]], output: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("history plot needs matplotlib: pip install 'fastfun-gate[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({name for _, _, note in history for name in note["benchmarks"]})
    fig, ax = plt.subplots(figsize=(10, 6))
    for name in names:
        points = [
            (i, note["benchmarks"][name].get("instructions"))
            for i, (_, _, note) in enumerate(history)
            if name in note["benchmarks"]
        ]
        points = [(x, y) for x, y in points if y is not None]
        ax.plot(
            [x for x, _ in points],
            [y for _, y in points],
            marker="o",
            markersize=3,
            label=name,
            drawstyle="steps-post",
        )
    for i in range(1, len(history)):
        if history[i][2]["fingerprint"] != history[i - 1][2]["fingerprint"]:
            ax.axvline(i - 0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(history)), [commit[:7] for commit, _, _ in history], rotation=90, fontsize=7)
    ax.set_ylabel("instructions per call (log)")
    ax.set_title("instructions per call over first-parent history (dashed: toolchain changed)")
    ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)


def _show(args: argparse.Namespace) -> int:
    repo = options.repo_of(args)
    git.commit_of(repo, args.rev)
    history = load(repo, args.rev)
    if not history:
        print(f"no commit of {args.rev} has counts in {NOTES} (fetch them: git fetch origin {NOTES}:{NOTES})")
        return 1
    if args.action == "plot":
        draw(history, Path(args.output))
        print(f"drew {len(history)} commits into {args.output}")
        return 0
    print(f"{len(history)} commits with counts; every step:")
    for line in steps(history) or ["(no count ever changed)"]:
        print(f"  {line}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    record = actions.add_parser("record", help="count a revision and attach its figures as a git note")
    record.add_argument("--rev", default="HEAD", help="the revision (default: HEAD)")
    record.add_argument(
        "--report", metavar="FILE", help="take the head's figures from a compare --json report instead"
    )
    record.add_argument("--out", default="gate-report", metavar="DIR", help="build logs and profiles")
    options.add_repo(record)
    options.add_install(record)
    record.add_argument(
        "--tests", metavar="'PYTEST ARGS'", help="pytest's arguments (default: the revision's)"
    )
    record.add_argument("--select", action="append", default=[], metavar="GLOB", help="only these benchmarks")
    for name, does in (
        ("show", "list every step of every benchmark"),
        ("plot", "draw the counts into a PNG"),
    ):
        action = actions.add_parser(name, help=does)
        action.add_argument("--rev", default="HEAD", help="whose first-parent history (default: HEAD)")
        options.add_repo(action)
        if name == "plot":
            action.add_argument("-o", "--output", required=True, metavar="FILE.png")


def run(args: argparse.Namespace) -> int:
    return _record(args) if args.action == "record" else _show(args)


COMMAND = Command(
    "history", "record counts in git notes, list their steps, draw them", add_arguments, run, __doc__
)
