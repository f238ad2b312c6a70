"""Count the benchmarks of the current checkout in an existing environment: no build, no
comparison (a main branch's job, history, a quick look).

    fastfun-gate count [--python PY] [--tests "tests/bench"] [--select GLOB] [--json counts.json]

The environment must have the project installed with its test requirements; the checkout's
own ``[tool.fastfun-gate]`` gives the tests, flags over it. Exit 0 when every benchmark was
counted, 2 otherwise (one line says which).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fastfun_gate import config, git
from fastfun_gate.commands import Command, options
from fastfun_gate.compare import MEMORY
from fastfun_gate.errors import Undecided


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--python", default=sys.executable, help="the environment's interpreter (default: this one)"
    )
    parser.add_argument(
        "--tests", metavar="'PYTEST ARGS'", help="pytest's arguments (default: the project's)"
    )
    parser.add_argument("--select", action="append", default=[], metavar="GLOB", help="only these benchmarks")
    parser.add_argument("--json", metavar="FILE", help="write the counts here")
    parser.add_argument("--out", default="gate-report", metavar="DIR", help="the harness's log and profiles")
    options.add_repo(parser)


def run(args: argparse.Namespace) -> int:
    repo = options.repo_of(args)
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text() if pyproject.is_file() else None
    source = "pyproject.toml of the working tree"
    settings = config.parse(config.table_of(text, source), source)
    flags = config.Flags(tests=args.tests, select=args.select)
    settings = config.merged(settings, flags)
    options.need_valgrind()
    measure = options.measure()
    try:
        counts = measure.count(
            Path(args.python),
            repo,
            list(settings.tests),
            select=[config.as_fnmatch(glob) for glob in settings.select],
            out=Path(args.out).resolve(),
            timeout=settings.timeout,
        )
    except measure.MeasureError as error:
        raise Undecided(f"the measuring harness could not run: {error}") from None
    rows = [
        {
            "name": name,
            "instructions": c.instructions,
            **{m: getattr(c, m) for m in MEMORY},
            "error": c.error,
        }
        for name, c in counts.items()
    ]
    for row in rows:
        figure = "-" if row["instructions"] is None else f"{row['instructions']:,}"
        print(f"{row['name']}  {figure}" + (f"  {row['error']}" if row["error"] else ""))
    if args.json:
        data = {"schema_version": 1, "commit": git.commit_of(repo, "HEAD"), "benchmarks": rows}
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    failed = [row for row in rows if row["instructions"] is None]
    if not rows:
        raise Undecided("no benchmark was found (tests using the benchmark fixture or mark)")
    if failed:
        raise Undecided(f"{failed[0]['name']} cannot be counted: {failed[0]['error']}")
    return 0


COMMAND = Command(
    "count",
    "count the current checkout's benchmarks in an existing environment (no build)",
    add_arguments,
    run,
    __doc__,
)
