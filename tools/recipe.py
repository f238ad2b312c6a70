"""The CI recipe of docs/gate.md as the workflow file a project commits, for act to run.

    python -m tools.recipe --out DIR/gate.yml [--sharded] [--page docs/gate.md] [--gate URL]

The recipe is the first ``yaml`` block under the page's heading "The CI recipe", taken as
written; ``--sharded``: with its ``gate`` job (its last) replaced by the jobs of the block
under "Sharding a big suite", as that section tells a user to. The page tells a user to fill
in ``OWNER`` and ``COMMIT``, the gate they pin; this does that and nothing else: the gate is
this checkout's ``gate/`` at its HEAD commit, as a pip URL (``git+file://``, since CI cannot
reach GitHub), or ``--gate``. Any other line that differs, or a placeholder left elsewhere, is
refused: the file run is the recipe a user copies.

Exit status 0, or 2 with one line when the page has no recipe in that shape.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## The CI recipe"
SHARDING = "### Sharding a big suite"
# The recipe's pin, as the page writes it: the only place OWNER and COMMIT may stand.
PIN = "git+https://github.com/OWNER/fastfun@COMMIT#subdirectory=gate"


class NoRecipe(Exception):
    """The page does not hold the recipe in the expected shape; the message says how."""


def block(page: str, heading: str) -> str:
    """The first ``yaml`` block after ``heading``."""
    start = page.find(f"\n{heading}\n")
    if start < 0:
        raise NoRecipe(f"no heading {heading!r}")
    found = re.search(r"^```yaml\n(.*?)^```$", page[start:], re.S | re.M)
    if found is None:
        raise NoRecipe(f"no ```yaml block under {heading!r}")
    return found.group(1)


def recipe(page: str, sharded: bool = False) -> str:
    """The recipe's workflow; ``sharded``: its last job, gate, replaced by the sharded jobs."""
    workflow = block(page, HEADING)
    if not sharded:
        return workflow
    head, job, _ = workflow.rpartition("\n  gate:\n")
    jobs = block(page, SHARDING).partition("jobs:\n")[2]
    if not job or not jobs or re.search(r"^  [\w-]+:$", _, re.M):
        raise NoRecipe(f"the recipe's last job is not gate, or {SHARDING!r} has no jobs to put there")
    return f"{head}\n{jobs}"


def filled(workflow: str, gate: str) -> str:
    """The recipe with its pin replaced by ``gate``, the one change made."""
    if workflow.count(PIN) != 1:
        raise NoRecipe(f"the recipe does not name the gate as {PIN!r} once")
    result = workflow.replace(PIN, gate)
    left = [line for line in result.splitlines() if "OWNER" in line or "COMMIT" in line]
    if left:
        raise NoRecipe(f"a placeholder is left outside the pin: {left[0].strip()!r}")
    return result


def this_gate() -> str:
    """This checkout's gate/ at HEAD, as pip installs a git URL (with a host: pip 23's
    requirement parser refuses a ``file:`` URL without one)."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return f"git+file://localhost{ROOT}@{commit}#subdirectory=gate"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.recipe", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="the workflow file to write")
    parser.add_argument("--sharded", action="store_true", help="the sharded variant of the recipe")
    parser.add_argument("--page", type=Path, default=ROOT / "docs" / "gate.md")
    parser.add_argument("--gate", help="the pip URL of the gate (default: this checkout's gate/ at HEAD)")
    args = parser.parse_args(argv)
    try:
        workflow = filled(recipe(args.page.read_text(), args.sharded), args.gate or this_gate())
    except (NoRecipe, OSError) as error:
        print(f"recipe: {args.page}: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(workflow)
    print(
        f"recipe: {args.out}: the recipe of {args.page.name}, the gate pinned to {args.gate or this_gate()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
