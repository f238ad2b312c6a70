"""The command line: one entry point, one subcommand per module of ``fastfun_gate.commands``.

Exit status: 0 pass, 1 regression, 2 could not decide. A mistake on the command line or in the
configuration, a failed build, a harness that cannot run: one line on stderr and exit 2, never
a traceback (``FASTFUN_GATE_DEBUG=1`` shows it for an internal error).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from fastfun_gate import __version__
from fastfun_gate.commands import bisect, build, compare, count, history, merge
from fastfun_gate.errors import Undecided, UsageError

COMMANDS = (
    compare.COMMAND,
    merge.COMMAND,
    build.KEY,
    build.BUILD,
    bisect.BISECT,
    bisect.BISECT_RUN,
    history.COMMAND,
    count.COMMAND,
)
PROG = "fastfun-gate"
DESCRIPTION = (
    "An exact performance gate: two revisions built and their benchmarks counted under callgrind. "
    "Exit status: 0 pass, 1 regression, 2 could not decide."
)


class Parser(argparse.ArgumentParser):
    """An argparse parser whose mistakes are one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def parser() -> argparse.ArgumentParser:
    top = Parser(prog=PROG, description=DESCRIPTION)
    top.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=(command.doc or command.help).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        if args.command is None:
            raise UsageError(
                f"{PROG}: a command is needed: {', '.join(c.name for c in COMMANDS)} (see {PROG} --help)"
            )
        return int(args.run(args))
    except UsageError as error:
        message = str(error)
        print(message if message.startswith(PROG) else f"{PROG}: {message}", file=sys.stderr)
    except Undecided as error:
        print(f"{PROG}: undecided: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROG}: undecided: interrupted", file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - fail closed: no bug may read as a pass or a regression
        if os.environ.get("FASTFUN_GATE_DEBUG"):
            traceback.print_exc()
        print(f"{PROG}: undecided: internal error: {type(error).__name__}: {error}", file=sys.stderr)
    return 2
