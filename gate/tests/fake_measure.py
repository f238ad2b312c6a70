"""A stand-in for ``fastfun_gate.measure`` with its signatures, for tests of the orchestration
that must not depend on callgrind: it runs the real benchmarks in the measured venv through
``fake_plugin.py`` and counts Python trace events (line and call) per measured call instead of
instructions. Deterministic for pure-Python code; it does not see inside C."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import make_dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class MeasureError(RuntimeError):
    pass


# fastfun_gate.measure.Measured's fields, in its order
Measured = make_dataclass(
    "Measured",
    "name instructions calls allocated_blocks allocated_bytes retained_bytes error profile".split(),
)


def worker_requirements() -> list[str]:
    return ["pytest"]


def _run(python: Path, tree: Path, args: Sequence[str], mode: str, out: Path, extra: dict[str, str]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    result_file = out / f"fake-{mode}.json"
    env = {
        "PATH": f"{Path(python).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(HERE),
        "PYTHONHASHSEED": "0",
        "FAKE_MODE": mode,
        "FAKE_OUT": str(result_file),
        **extra,
    }
    run = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-p",
            "no:benchmark",
            "-p",
            "fake_plugin",
            "-q",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if not result_file.exists():
        raise MeasureError(f"pytest exited {run.returncode}: {(run.stdout + run.stderr).strip()[-300:]}")
    return json.loads(result_file.read_text())


def collect(python, tree, pytest_args, *, env=None) -> list[str]:
    return list(_run(python, tree, pytest_args, "collect", Path(tree).parent / "collect", {}))


def count(
    python, tree, pytest_args, *, select=(), shard=None, out: Path, timeout=600.0
) -> dict[str, Any]:  # Measured
    extra = {
        "FAKE_SELECT": "\x1f".join(select),
        "FAKE_SHARD": "" if shard is None else f"{shard[0]}/{shard[1]}",
    }
    data = _run(python, tree, pytest_args, "count", out, extra)
    found = {}
    for name, figures in data.items():
        profile = out / (name.replace("/", "_").replace(":", "_") + ".profile.json")
        profile.write_text(json.dumps(figures.get("functions", {})))
        found[name] = Measured(name, figures.get("events"), 1, 0, 0, 0, figures.get("error"), profile)
    return found


def time(python, tree, pytest_args, names, *, calls, out) -> dict[str, float]:
    data = _run(
        python, tree, pytest_args, "time", out, {"FAKE_SELECT": "\x1f".join(names), "FAKE_CALLS": str(calls)}
    )
    return {name: figures["seconds"] for name, figures in data.items() if "seconds" in figures}


def functions(profile, limit=20) -> dict[str, int]:
    data = json.loads(Path(profile).read_text())
    return dict(sorted(data.items(), key=lambda kv: -kv[1])[:limit])
