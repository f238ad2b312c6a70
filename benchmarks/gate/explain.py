"""Where the instructions went: per-function costs per round, read from callgrind's dumps.

A case's count keeps two dumps, of zero rounds and of k rounds; per function, their
difference over k is what one round spends in it (inclusive) and how often it is called.
Inclusive here is the cost of every call made into a function from another function, so a
function calling itself is not counted twice; functions that call each other in a cycle (the
interpreter's frames) cannot be told apart that way and are left out of the table. Cython's C symbols are
shown as the Python names they implement (``fastfun._core.fun_notification``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_NAMED = re.compile(r"^\((\d+)\)(?: (.*))?$")
_CYTHON = re.compile(r"^__pyx_(pw|pf|f)_(.*)$")
_LENGTH = re.compile(r"^(\d+)(.*)$", re.DOTALL)
# callgrind names the levels of a recursion fn'2, fn'3 ... (--separate-recs): one function here.
_RECURSION_LEVEL = re.compile(r"'\d+$")
# The compiler's clones of a function (constant propagation, split cold paths): the same one.
_CLONE = re.compile(r"(\.(constprop|isra|part|cold)(\.\d+)?)+$")


@dataclass(frozen=True)
class Cost:
    inclusive: float
    calls: float


@dataclass(frozen=True)
class Profile:
    functions: dict[str, Cost]
    total: float  # every instruction of the dump (per round, after per_round)


def python_name(symbol: str) -> str:
    """``__pyx_pw_7fastfun_5_core_1fibonacci`` -> ``fastfun._core.fibonacci``; ``pf`` (the
    body behind a Python wrapper) is marked ``[body]``; other symbols stay as they are."""
    match = _CYTHON.match(symbol)
    if not match:
        return symbol
    kind, rest = match.groups()
    parts = []
    while (length := _LENGTH.match(rest)) is not None:
        size, body = int(length.group(1)), length.group(2)
        if len(body) <= size or body[size] != "_":
            break
        parts.append(body[:size])
        rest = body[size + 1 :]
    if not parts:
        return symbol
    if kind in ("pw", "pf"):
        rest = rest.lstrip("0123456789")
    return ".".join([*parts, rest]) + (" [body]" if kind == "pf" else "")


def _resolve(names: dict[str, str], text: str) -> str:
    named = _NAMED.match(text)
    if named is not None:
        number, name = named.groups()
        if name is not None:
            names[number] = name
        text = names.get(number, text)
    return python_name(_CLONE.sub("", _RECURSION_LEVEL.sub("", text)))


def parse(path: Path) -> Profile:
    """Inclusive instructions and calls of every function in one callgrind dump."""
    names: dict[str, str] = {}
    self_cost: dict[str, int] = defaultdict(int)
    edges: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # calls, inclusive
    current = callee = ""
    pending_calls: int | None = None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("fn="):
            current = _resolve(names, line[3:])
        elif line.startswith("cfn="):
            callee = _resolve(names, line[4:])
        elif line.startswith("calls="):
            pending_calls = int(line[6:].split()[0])
        elif line[:1].isdigit() or line[:1] in "+-*":
            tokens = line.split()
            cost = int(tokens[-1]) if len(tokens) > 1 else 0
            if pending_calls is not None:
                edge = edges[(current, callee)]
                edge[0] += pending_calls
                edge[1] += cost
                pending_calls = None
            else:
                self_cost[current] += cost
    calls: dict[str, int] = defaultdict(int)
    entered: dict[str, int] = defaultdict(int)
    called_out: dict[str, int] = defaultdict(int)
    for (caller, target), (count, cost) in edges.items():
        calls[target] += count
        if caller != target:
            entered[target] += cost
            called_out[caller] += cost
    costs = {}
    for name in set(self_cost) | set(calls):
        # A function entered from elsewhere costs what those calls cost; the outermost frame
        # of the dump, entered before counting began, costs its own work and its callees'.
        inclusive = entered[name] if name in entered else self_cost[name] + called_out[name]
        costs[name] = Cost(inclusive, calls[name])
    return Profile(costs, sum(self_cost.values()))


def per_round(profile: Path, zero_profile: Path, rounds: int) -> Profile:
    """What one round spends per function: the k-round dump minus the zero-round one, over k."""
    full, zero = parse(profile), parse(zero_profile)
    result = {}
    for name, cost in full.functions.items():
        nothing = zero.functions.get(name, Cost(0, 0))
        result[name] = Cost(
            (cost.inclusive - nothing.inclusive) / rounds, (cost.calls - nothing.calls) / rounds
        )
    return Profile(result, (full.total - zero.total) / rounds)


@dataclass(frozen=True)
class Change:
    function: str
    base: Cost
    head: Cost

    @property
    def delta(self) -> float:
        return self.head.inclusive - self.base.inclusive


def changes(base_profile: Profile, head_profile: Profile, most: int = 10) -> list[Change]:
    """The functions whose inclusive cost per round changed most: up to half of them those
    the base never called (a new function is the likeliest culprit, and the interpreter's
    own frames would otherwise crowd it out), then the largest changes."""
    nothing = Cost(0, 0)
    base, head = base_profile.functions, head_profile.functions
    found = [
        Change(name, base.get(name, nothing), head.get(name, nothing))
        for name in set(base) | set(head)
        if base.get(name, nothing) != head.get(name, nothing) and not name.startswith("0x")
    ]
    # Functions that call each other in a cycle (the interpreter's own frames) get more than
    # the whole round as "inclusive": their figure means nothing, so they are left out.
    found = [
        change
        for change in found
        if change.base.inclusive <= base_profile.total and change.head.inclusive <= head_profile.total
    ]
    found = [change for change in found if change.delta or change.base.calls != change.head.calls]
    found.sort(key=lambda change: (-abs(change.delta), change.function))
    new = [change for change in found if change.base.calls == 0 and change.head.calls > 0][: most // 2]
    return new + [change for change in found if change not in new][: most - len(new)]


def render(changes_: list[Change]) -> list[str]:
    """The terminal table of ``changes``."""
    lines = [f"    {'function (per round)':<58} {'base incl.':>14} {'head incl.':>14} {'calls':>17}"]
    for change in changes_:
        calls = f"{change.base.calls:,.0f} -> {change.head.calls:,.0f}"
        lines.append(
            f"    {change.function[:58]:<58} {change.base.inclusive:>14,.0f} {change.head.inclusive:>14,.0f} "
            f"{calls:>17}"
        )
    return lines
