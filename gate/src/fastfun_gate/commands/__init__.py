"""One module per subcommand, each with its ``Command``: a name, one line of help, a function
that adds its arguments and one that runs it (the exit status); ``options`` holds what several
of them share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    doc: str | None = None  # the description in its --help: its module's docstring
