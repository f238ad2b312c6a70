"""Counting under callgrind: the bridge, the valgrind run, and reading its dumps.

One valgrind process per count: the suite is collected once (uninstrumented), then the
plugin's fork loop runs each chosen benchmark in a child of its own, which switches
instrumentation on around exactly its measured calls (see plugin.py). Its figure is
(I_k - I_0) / k from two dumps through the same code, so start-up, collection and the
harness cancel out.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from fastfun_gate.measure.harness import (
    HERE,
    Measured,
    MeasureError,
    Run,
    absolute,
    chosen,
    collect,
)

BRIDGE_SOURCE = HERE / "bridge.c"
_TOTALS = re.compile(rb"^totals:\s+(\d+)", re.MULTILINE)
_TRIGGER = re.compile(rb"^desc: Trigger: Client Request: (.*)$", re.MULTILINE)
_TAG = re.compile(r"^fastfun-gate (\d+) (calibrate|warm|zero|calls)(?: (\d+))?$")


# The whole run's limit beyond its benchmarks' own: interpreter start-up and collection under
# callgrind. Counted in benchmarks alone (then 3 s x (2 + 1) for a fixture project's two with
# --timeout 3), the run on a loaded CI runner was stopped whole, its report empty.
START_UP = 600.0


def tools() -> dict[str, str]:
    """The programs a count needs, found on PATH; MeasureError naming what is missing."""
    found = {name: shutil.which(name) for name in ("valgrind", "setarch", os.environ.get("CC", "cc"))}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise MeasureError(
            f"counting needs {', '.join(missing)} on PATH (Debian/Ubuntu: apt-get install valgrind gcc)"
        )
    return {name: path for name, path in found.items() if path is not None}


def cache_folder() -> Path:
    named = os.environ.get("FASTFUN_GATE_CACHE")
    if named:
        return Path(named) / "bridge"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fastfun-gate" / "bridge"


def bridge(compiler: str = "") -> Path:
    """bridge.c compiled once per source and compiler (it declares the few CPython functions
    it calls, so one library serves every CPython). MeasureError when it does not build."""
    compiler = compiler or tools()[os.environ.get("CC", "cc")]
    source = BRIDGE_SOURCE.read_bytes()
    key = hashlib.sha256(source + compiler.encode() + platform.machine().encode()).hexdigest()[:16]
    library = cache_folder() / f"bridge-{key}.so"
    if library.exists():
        return library
    library.parent.mkdir(parents=True, exist_ok=True)
    partial = library.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
    made = subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(BRIDGE_SOURCE)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        reason = (made.stderr.strip().splitlines() or ["no output"])[0]
        raise MeasureError(
            f"cannot compile the callgrind bridge (valgrind's header valgrind/callgrind.h comes with "
            f"the valgrind package): {reason}"
        )
    partial.replace(library)
    return library


def count(
    python: Path,
    tree: Path,
    pytest_args: Sequence[str],
    *,
    select: Sequence[str] = (),
    shard: tuple[int, int] | None = None,
    out: Path,
    timeout: float = 600.0,
    jobs: int | None = None,
) -> dict[str, Measured]:
    """Count the benchmarks of the suite under callgrind, per measured call.

    ``select``: fnmatch globs on the node id (none: all); ``shard``: ``(K, N)``, 1-based, a
    stable hash of the name; ``out``: where the profiles (and the run's log) are kept;
    ``timeout``: seconds per benchmark (past it: ``error``, the others still counted);
    ``jobs``: benchmarks counted at a time, default one per CPU (each in a process of its own,
    forked from one state: no figure depends on it; one count runs at a time on the machine).
    Returns the chosen benchmarks by node id, in collection order. A benchmark that fails, is
    skipped or crashes gets ``error`` and no figures; MeasureError when the harness
    cannot run or the suite does not collect.
    """
    found = tools()
    library = bridge(found[os.environ.get("CC", "cc")])
    out = absolute(out)
    names = collect(python, tree, pytest_args, timeout=timeout, out=out)
    plan = chosen(names, select, shard)
    if not any(plan):
        return {}
    settings = {"mode": "count", "jobs": max(1, jobs or os.cpu_count() or 1), "timeout": timeout}
    with Run(settings, python, tree, {"bridge.so": library}) as run:
        (run.out / "plan").write_bytes(bytes(ord("1") if wanted else ord("0") for wanted in plan))
        (run.out / "status").write_bytes(b"")
        command = [
            found["setarch"],
            platform.machine(),
            "-R",  # no address randomisation: the heap's addresses are part of a count
            found["valgrind"],
            "--tool=callgrind",
            "--instr-atstart=no",
            "--dump-instr=no",
            "--dump-line=no",
            "--quiet",
            f"--callgrind-out-file={run.folder / 'dumps' / 'cg.%p'}",
            *run.pytest(pytest_args),
        ]
        try:
            run.execute(command, run.environment(), timeout * sum(plan) + START_UP)
        finally:
            run.save_log(out, "count.log")
        if run.names() != names:
            raise MeasureError("the suite collected differently under valgrind than without it")
        statuses = read_statuses(run.out / "status")
        dumps = tagged_dumps(run.folder / "dumps")
        return {
            name: measured(name, index, run, statuses.get(index), dumps, out, timeout)
            for index, (name, wanted) in enumerate(zip(names, plan, strict=True))
            if wanted
        }


def measured(
    name: str,
    index: int,
    run: Run,
    status: int | None,
    dumps: dict[str, Path],
    out: Path,
    timeout: float,
) -> Measured:
    result_file = run.out / "results" / f"{index}.json"
    if not result_file.exists():
        return Measured(name, None, 0, None, None, None, died(status, timeout), None)
    result = json.loads(result_file.read_text())
    if result["error"] is not None:
        return Measured(name, None, 0, None, None, None, result["error"], None)
    k = result["calls"]
    zero, calls = dumps.get(result["zero_tag"]), dumps.get(result["calls_tag"])
    if zero is None or calls is None:
        return Measured(name, None, k, None, None, None, "callgrind wrote no profile for it", None)
    instructions = round((totals(calls) - totals(zero)) / k)
    out.mkdir(parents=True, exist_ok=True)
    profile = out / f"{file_name(name)}.callgrind"
    shutil.copyfile(calls, profile)
    shutil.copyfile(zero, profile.with_name(profile.name + ".zero"))
    return Measured(
        name,
        instructions,
        k,
        result["allocated_blocks"],
        result["allocated_bytes"],
        result["retained_bytes"],
        None,
        profile,
    )


def died(status: int | None, timeout: float) -> str:
    if status is None:
        return "its process never reported (the run ended early)"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGALRM:
            return f"timed out after {timeout:g} s"
        return f"its process died of signal {number} ({signal.Signals(number).name})"
    return f"its process exited with status {os.WEXITSTATUS(status)} before reporting"


def read_statuses(path: Path) -> dict[int, int]:
    statuses = {}
    for line in path.read_text().splitlines():
        index, status = line.split()
        statuses[int(index)] = int(status)
    return statuses


def tagged_dumps(folder: Path) -> dict[str, Path]:
    """callgrind's dumps by the tag the plugin gave them."""
    found = {}
    for path in folder.glob("cg.*.*"):
        with open(path, "rb") as file:
            head = file.read(4096)
        trigger = _TRIGGER.search(head)
        if trigger:
            found[trigger.group(1).decode(errors="replace")] = path
    return found


def totals(path: Path) -> int:
    match = _TOTALS.search(path.read_bytes())
    if match is None:
        raise MeasureError(f"{path}: callgrind wrote no totals")
    return int(match.group(1))


def file_name(name: str) -> str:
    """A node id as a file name, unique: readable part plus a short hash of the whole."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:80]
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


# ---- attribution ----------------------------------------------------------------------------

_NAMED = re.compile(r"^\((\d+)\)(?: (.*))?$")
# callgrind names the levels of a recursion fn'2, fn'3 ...: one function here.
_RECURSION_LEVEL = re.compile(r"'\d+$")
# The compiler's clones of a function (constant propagation, split cold paths): the same one.
_CLONE = re.compile(r"(\.(constprop|isra|part|cold)(\.\d+)?)+$")


def _resolve(names: dict[str, str], text: str) -> str:
    named = _NAMED.match(text)
    if named is not None:
        number, name = named.groups()
        if name is not None:
            names[number] = name
        text = names.get(number, text)
    return _CLONE.sub("", _RECURSION_LEVEL.sub("", text))


def inclusive(path: Path) -> tuple[dict[str, int], int]:
    """Inclusive instructions of every function in one callgrind dump, and the dump's total.
    Inclusive is the cost of the calls made into a function from other functions (a function
    calling itself is not counted twice); the outermost frame costs its own work and its
    callees'."""
    names: dict[str, str] = {}
    self_cost: dict[str, int] = defaultdict(int)
    edges: dict[tuple[str, str], int] = defaultdict(int)
    current = callee = ""
    in_call = False
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("fn="):
            current = _resolve(names, line[3:])
        elif line.startswith("cfn="):
            callee = _resolve(names, line[4:])
        elif line.startswith("calls="):
            in_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            tokens = line.split()
            cost = int(tokens[-1]) if len(tokens) > 1 else 0
            if in_call:
                edges[(current, callee)] += cost
                in_call = False
            else:
                self_cost[current] += cost
    entered: dict[str, int] = defaultdict(int)
    called_out: dict[str, int] = defaultdict(int)
    for (caller, target), cost in edges.items():
        if caller != target:
            entered[target] += cost
            called_out[caller] += cost
    functions = set(self_cost) | set(entered)
    costs = {
        name: entered[name] if name in entered else self_cost[name] + called_out[name] for name in functions
    }
    return costs, sum(self_cost.values())


def functions(profile: Path, limit: int = 20) -> dict[str, int]:
    """Inclusive instructions per measured call of the ``limit`` costliest functions (all when
    ``limit`` <= 0), costliest first, from a Measured.profile: its k-call dump minus the 0-call
    dump beside it, over k. C functions as callgrind names them (a compiled extension's own,
    the interpreter's); Python functions run inside the interpreter's. Functions that call
    each other in a cycle (the interpreter's frames) would count more than the whole call and
    are left out."""
    profile = Path(profile)
    calls, total = inclusive(profile)
    k = 1
    zero_path = profile.with_name(profile.name + ".zero")
    if zero_path.exists():
        zero, zero_total = inclusive(zero_path)
        trigger = _TRIGGER.search(profile.read_bytes()[:4096])
        tag = _TAG.match(trigger.group(1).decode()) if trigger else None
        k = int(tag.group(3)) if tag and tag.group(3) else 1
        calls = {name: cost - zero.get(name, 0) for name, cost in calls.items()}
        total -= zero_total
    per_call = {name: round(cost / k) for name, cost in calls.items() if 0 < cost <= total}
    ranked = sorted(per_call.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit] if limit > 0 else ranked)
