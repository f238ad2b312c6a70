"""Every interpreter the release names that this machine can run, on the release path.

    sudo python -m tools.prove_interpreters [--chroot DIR] [--mirror URL] [--out DIR]

CPython 3.14 and 3.15 and PyPy 3.11 come from Debian unstable, in a chroot this command makes
once and then reuses (root only: debootstrap, chroot and mount need it):

1. The chroot: ``debootstrap --variant=minbase sid DIR MIRROR``, MIRROR the Debian mirror apt
   already uses here, then PACKAGES. A stamp file records what it was made with; a run that
   finds it reuses the chroot as it is. Each run copies in the host's resolver configuration
   and the CA bundle pip uses here (its ``cert`` setting), bind-mounts this checkout and the
   output folder at their own paths, mounts /proc (the suite's memory tests read it), and
   unmounts all three at the end, whatever happened.
2. The release path of tools/prove_wheels.py, run inside the chroot by a venv of the
   ``release`` extra (what that module runs with) for each interpreter:
   CPython 3.14 and 3.15 build the compiled wheel from the sdist and pass the release's
   test-command with the compiled core required; PyPy installs the sdist itself, as a PyPy
   user does (it must build the pure package, with no FASTFUN_NO_EXTENSIONS set), through the
   same test-command with the pure core.
   The sdist is built once (the release path's first step), then --jobs interpreters at a time.
3. A table: interpreter version, wheel, result (the suite's closing line), date; and the
   time of the whole run. The scaling benchmark's figures stay in the logs: these builds have
   the GIL, and --jobs runs share the CPUs. Exit status 1 when an interpreter fails, 2 for a
   usage mistake.

What cannot be proven here, and where it is: the free-threaded 3.14t and 3.15t (no Debian
package, no CPython source on the mirror) and musllinux (no Alpine userland) run only in
the cibuildwheel wheel jobs of .github/workflows/ci.yml.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = "sid"
# The interpreters and what building and testing in the chroot needs: gcc for the compiled
# core, ca-certificates for apt's own https, if any.
PACKAGES = [
    "python3.14-dev",
    "python3.14-venv",
    "python3.15-dev",
    "python3.15-venv",
    "pypy3",
    "pypy3-venv",
    "gcc",
    "ca-certificates",
]
# (label, interpreter inside the chroot, pure package from a source install?)
INTERPRETERS = [
    ("CPython 3.14", "/usr/bin/python3.14", False),
    ("CPython 3.15", "/usr/bin/python3.15", False),
    ("PyPy 3.11", "/usr/bin/pypy3", True),
]
# The Python of the venv inside the chroot that runs tools/prove_wheels.py.
TOOLS_PYTHON = "/usr/bin/python3.14"
TOOLS_VENV = "/opt/fastfun-tools"
# The dated snapshot the mirror serves has expired Release files: apt must not refuse them.
APT = ["apt-get", "-q", "-o", "Acquire::Check-Valid-Until=false"]
HOST_CA = "/etc/fastfun-host-ca.crt"
STAMP = ".fastfun-chroot.json"


class Failed(Exception):
    """A step failed; the message says which, in one line."""


@dataclass
class Result:
    interpreter: str
    version: str = "-"
    wheel: str = "-"
    result: str = "not run"
    passed: bool = False


def say(message: str) -> None:
    print(f"prove_interpreters: {message}", flush=True)


def run(command: Sequence[str], log: Path, what: str) -> None:
    """Run ``command`` with its output appended to ``log``; Failed (naming the log) if it fails."""
    with log.open("a") as out:
        out.write(f"\n$ {shlex.join(command)}\n")
        out.flush()
        status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
    if status:
        raise Failed(f"{what} failed (exit {status}); see {log}")


def host_mirror() -> str:
    """The Debian archive apt uses on this machine (not its security archive)."""
    sources = Path("/etc/apt")
    for path in sorted(sources.glob("sources.list.d/*.sources")):
        for block in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in block.splitlines() if ":" in line and not line.startswith("#")
            )
            uris, suites = fields.get("URIs", "").split(), fields.get("Suites", "").split()
            if "deb" in fields.get("Types", "").split() and not any("security" in s for s in suites):
                found = [u for u in uris if u.rstrip("/").endswith("/debian")]
                if found:
                    return found[0]
    for path in [sources / "sources.list", *sorted(sources.glob("sources.list.d/*.list"))]:
        if path.exists():
            for line in path.read_text().splitlines():
                words = line.split()
                if len(words) >= 3 and words[0] == "deb" and "security" not in words[2]:
                    uri = next(w for w in words[1:] if not w.startswith("["))
                    if uri.rstrip("/").endswith("/debian"):
                        return uri
    raise Failed("no Debian mirror found in /etc/apt/sources.list*: name one with --mirror")


def pip_cert() -> Path:
    """The CA bundle pip uses here: its ``cert`` setting, else the system's."""
    setting = (
        os.environ.get("PIP_CERT")
        or subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.cert"], capture_output=True, text=True
        ).stdout.strip()
    )
    for candidate in (setting, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise Failed("no CA bundle found for pip (pip config get global.cert)")


def release_extra() -> list[str]:
    """The ``release`` extra of pyproject.toml: what tools/prove_wheels.py runs with."""
    import tomllib  # Python 3.11+, as tools/prove_wheels.py's host needs

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return list(extras["release"])


def mounts_under(path: Path) -> list[str]:
    """The mount points at or below ``path``."""
    points = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return [p for p in points if p == str(path) or p.startswith(f"{path}/")]


@contextlib.contextmanager
def mounts(chroot: Path, binds: Sequence[Path]) -> Iterator[None]:
    """/proc, and each of ``binds`` at its own path, mounted in the chroot until the block ends."""
    done: list[Path] = []
    try:
        for source in binds:
            target = chroot / source.relative_to("/")
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
            done.append(target)
        subprocess.run(["mount", "-t", "proc", "proc", str(chroot / "proc")], check=True)
        done.append(chroot / "proc")
        yield
    finally:
        for target in reversed(done):
            subprocess.run(["umount", "--lazy", str(target)], check=False)


def inside(chroot: Path, command: str) -> list[str]:
    """``command`` (a shell line) run in the chroot with a clean environment."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        "PIP_CERT": HOST_CA,
        "SSL_CERT_FILE": HOST_CA,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return ["chroot", str(chroot), "env", "-i", *(f"{k}={v}" for k, v in env.items()), "sh", "-c", command]


def make_chroot(chroot: Path, mirror: str, log: Path) -> str:
    """The chroot at ``chroot``, made or reused; says which."""
    wanted = {"suite": SUITE, "mirror": mirror, "packages": PACKAGES, "tools": release_extra()}
    stamp = chroot / STAMP
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return "reused"
    if not (chroot / "usr/bin/apt-get").exists() or (chroot / "debootstrap").exists():
        shutil.rmtree(chroot, ignore_errors=True)  # a half-made one: debootstrap left its folder
        if shutil.which("debootstrap") is None:
            run([*APT, "update"], log, "apt-get update (for debootstrap)")
            run([*APT, "install", "-y", "debootstrap"], log, "installing debootstrap")
        chroot.parent.mkdir(parents=True, exist_ok=True)
        say(f"making the chroot: debootstrap --variant=minbase {SUITE} {chroot} {mirror} (about a minute)")
        run(["debootstrap", "--variant=minbase", SUITE, str(chroot), mirror], log, "debootstrap")
    connect(chroot)
    say(f"installing {' '.join(PACKAGES)} and the tools venv (about two minutes)")
    with mounts(chroot, []):
        run(inside(chroot, shlex.join([*APT, "update"])), log, "apt-get update in the chroot")
        install = [*APT, "install", "-y", "--no-install-recommends", *PACKAGES]
        run(inside(chroot, shlex.join(install)), log, "apt-get install in the chroot")
        shutil.rmtree(chroot / TOOLS_VENV.lstrip("/"), ignore_errors=True)
        run(inside(chroot, shlex.join([TOOLS_PYTHON, "-m", "venv", TOOLS_VENV])), log, "the tools venv")
        pip = [f"{TOOLS_VENV}/bin/python", "-m", "pip", "install", "-q", *wanted["tools"]]
        run(inside(chroot, shlex.join(pip)), log, "installing the tools")
    stamp.write_text(json.dumps(wanted))
    return "made"


def connect(chroot: Path) -> None:
    """The host's resolver configuration and pip's CA bundle, copied in (both may change)."""
    shutil.copy("/etc/resolv.conf", chroot / "etc/resolv.conf")
    shutil.copy(pip_cert(), chroot / HOST_CA.lstrip("/"))


def copy_checkout(chroot: Path) -> Path:
    """This checkout's files (tracked, and new ones git does not ignore) at the same path in the
    chroot; its .nox (the nox sessions' venvs, made by the chroot's Python) is kept."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode:
        raise Failed(f"git ls-files failed in {ROOT}: {listed.stderr.strip()}")
    copy = chroot / str(ROOT).lstrip("/")
    if copy.exists():
        for entry in copy.iterdir():
            if entry.name != ".nox":
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():  # a deleted file is still listed until the deletion is committed
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def interpreter_version(chroot: Path, python: str) -> str:
    code = (
        "import platform, sys; v = getattr(sys, 'pypy_version_info', None); "
        "print(platform.python_implementation(), platform.python_version(), "
        "'(PyPy %d.%d.%d)' % v[:3] if v else '')"
    )
    found = subprocess.run(inside(chroot, shlex.join([python, "-c", code])), capture_output=True, text=True)
    return found.stdout.strip() or f"{python}: not found"


def closing_line(logs: Path) -> str:
    """pytest's closing line ('N passed, M skipped in S s') in the release path's test log."""
    for log in sorted(logs.glob("*test-*.log"), reverse=True):
        found = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s", log.read_text(), re.M)
        if found:
            return str(found[-1])
    return "no pytest closing line"


def release_path(chroot: Path, options: Sequence[str], log: Path) -> tuple[int, str]:
    """``python -m tools.prove_wheels OPTIONS`` in the chroot's copy of this checkout, run by the
    tools venv; its exit status and output (also in ``log``)."""
    command = [f"{TOOLS_VENV}/bin/python", "-m", "tools.prove_wheels", *options]
    with log.open("w") as out:
        status = subprocess.run(
            inside(chroot, f"cd {shlex.quote(str(ROOT))} && {shlex.join(command)}"),
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode
    return status, log.read_text()


def make_sdist(chroot: Path, out: Path) -> Path:
    """The sdist, once, by the release path's first step (the sdist job's line)."""
    say(f"the sdist, log in {out / 'sdist.log'}")
    status, output = release_path(chroot, ["--sdist-only", "--out", str(out / "sdist")], out / "sdist.log")
    said = re.findall(r"^prove_wheels: (/\S+\.tar\.gz)$", output, re.M)
    if status or not said:
        raise Failed(f"the sdist did not build; see {out / 'sdist.log'}")
    return Path(said[-1])


def prove(chroot: Path, label: str, python: str, pure: bool, sdist: Path, out: Path) -> Result:
    """The release path for one interpreter, from ``sdist``, inside the chroot."""
    result = Result(label, interpreter_version(chroot, python))
    folder = out / re.sub(r"\W+", "-", label.lower())
    say(f"{label}: the release path ({'source install' if pure else 'compiled wheel'}), log in {folder}.log")
    started = time.monotonic()
    options = ["--python", python, "--sdist", str(sdist), "--out", str(folder), *["--source-install"] * pure]
    status, output = release_path(chroot, options, out / f"{folder.name}.log")
    said = re.findall(r"^prove_wheels: (\S+\.whl) from ", output, re.M)
    result.wheel = said[-1] if said else "-"
    result.passed = status == 0
    result.result = f"{'passed' if status == 0 else 'FAILED'}: {closing_line(folder / 'logs')}"
    say(f"{label}: {result.result} ({time.monotonic() - started:.0f} s)")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--chroot",
        type=Path,
        default=Path.home() / ".cache" / "fastfun" / f"chroot-{SUITE}",
        help="where the chroot is made or reused (default ~/.cache/fastfun/chroot-sid)",
    )
    parser.add_argument("--mirror", help="the Debian mirror (default: the one apt uses here)")
    parser.add_argument(
        "--out", type=Path, default=Path("interpreters"), help="wheels and logs (default ./interpreters)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="interpreters proven at once (default 2; 1 keeps the scaling figures of each run "
        "free of the others)",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("prove_interpreters: needs root (debootstrap, chroot, mount)", file=sys.stderr)
        return 2
    started = time.monotonic()
    chroot, out = args.chroot.resolve(), args.out.resolve()
    # The last run's output (its venvs: some 20,000 files) is removed while this one starts.
    previous = out.with_name(f"{out.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out.exists():
        out.rename(previous)
    cleaning = threading.Thread(target=shutil.rmtree, args=(previous, True))
    cleaning.start()
    out.mkdir(parents=True)
    results: list[Result] = []
    try:
        # A killed run may have left a host folder bind-mounted inside: never remove through it.
        left = mounts_under(chroot)
        if left:
            raise Failed(f"still mounted from an earlier run: umount {' '.join(left)}")
        mirror = args.mirror or host_mirror()
        how = make_chroot(chroot, mirror, out / "chroot.log")
        say(f"chroot {how}: {chroot} ({time.monotonic() - started:.0f} s)")
        connect(chroot)
        copy_checkout(chroot)
        with mounts(chroot, [out]):
            sdist = make_sdist(chroot, out)
            with ThreadPoolExecutor(args.jobs) as pool:
                results += pool.map(
                    lambda job: prove(chroot, job[0], job[1], job[2], sdist, out), INTERPRETERS
                )
    except Failed as error:
        print(f"prove_interpreters: {error}", file=sys.stderr)
        return 1
    cleaning.join()
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    print("\n| interpreter | wheel | result | date |\n|---|---|---|---|")
    for r in results:
        print(f"| {r.version} | {r.wheel} | {r.result} | {today} |")
    say(f"took {time.monotonic() - started:.0f} s in all; logs in {out}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
