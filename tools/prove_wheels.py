"""The release path, run on this machine as GitHub Actions runs it, from its definitions.

    python -m tools.prove_wheels [--python PATH] [--pure | --source-install] [--sdist FILE] [--out DIR]
                                 [--sdist-only]

1. sdist: the `sdist` job's nox line, read from .github/workflows/ci.yml and run verbatim
   (or --sdist, built before: CI too builds one sdist for every wheel).
2. A wheel built from that sdist, unpacked. Compiled: the steps cibuildwheel takes for this
   interpreter's identifier (e.g. cp311-manylinux_x86_64), with the options cibuildwheel itself
   reads from the unpacked sdist's pyproject.toml and the `wheels` job's environment:
   environment, build-frontend, repair-wheel-command. --pure: the `pure-wheel` job's nox line.
   --source-install: no wheel of ours; the test venv's pip installs the sdist itself, as a user of
   an interpreter without a release wheel (PyPy) does, and it must build the pure package.
3. Its test: a fresh venv of PATH, the wheel with its test-extras (and test-requires,
   before-test), then the test-command with {project} and {package} = the unpacked sdist, from
   a scratch directory holding cibuildwheel's test_fail.py (which fails if pytest collects it).
   --pure and --source-install run the same test-command with the pure core's environment
   (PURE_ENVIRONMENT) instead of the test-environment, as the `test` job does on the pure wheel.
Then the wheel's contents: no C, Cython, tests or benchmarks inside, at most MAX_BYTES.

What only GitHub runs (no Docker engine here): cibuildwheel builds inside the manylinux image
with the image's CPython, glibc and auditwheel; here the build runs on PATH with this machine's
glibc, and auditwheel from PyPI tags the wheel for this machine's glibc.

Each step prints its time; a failed step prints the last lines of its log. Exit status 1
when a step fails, 2 for a usage mistake. Only the host (the Python running this, 3.11+) needs the
dev extra (nox, PyYAML, cibuildwheel, auditwheel); PATH needs nothing but pip and venv.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the release path needs 3.11+ (cibuildwheel 4), but the noxfile imports this module
    import tomli as tomllib

from benchmarks.venvs import child_env

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
MAX_BYTES = 150 * 1024
FORBIDDEN = re.compile(r"(\.c|\.pyx)$|(^|/)(tests|benchmarks)/")
# The pure core under test, as a user selects it; FASTFUN_EXPECT_PURE tells the suite that a
# compiled core is absent on purpose. The `test` job sets the same (noxfile.py reads this).
PURE_ENVIRONMENT = {"FASTFUN_NO_EXTENSIONS": "1", "FASTFUN_EXPECT_PURE": "1"}
TAIL_LINES = 40
# No compiled core installed (fastfun's own selector would pick the twin on PyPy regardless).
PURE_CHECK = (
    "import importlib.util, sys; "
    "sys.exit('a compiled core is installed' if importlib.util.find_spec('fastfun._core') else 0)"
)
# The cibuildwheel options this release path carries out as cibuildwheel does on Linux; any
# other one, set in [tool.cibuildwheel] or as CIBW_* by the wheels job, stops it with its name.
HONOURED = {
    *("build", "skip", "archs", "build-frontend", "environment", "before-build", "repair-wheel-command"),
    *("test-command", "test-extras", "test-requires", "test-environment", "before-test"),
}


class StepFailed(Exception):
    """A step of the release path failed; the message says which and where its log is."""


def job_steps(job: str) -> list[dict[str, Any]]:
    """The steps of a job of ci.yml."""
    import yaml  # the dev extra (PyYAML comes with pre-commit)

    steps: list[dict[str, Any]] = yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]
    return steps


def job_nox_line(job: str) -> str:
    """The one `nox -s ...` line of a job of ci.yml: what that job runs, verbatim."""
    lines = [
        line.strip()
        for step in job_steps(job)
        for line in step.get("run", "").splitlines()
        if "nox -s" in line
    ]
    if len(lines) != 1:
        raise StepFailed(f"ci.yml: job {job!r} should call nox once, it has {len(lines)} nox lines")
    return str(lines[0])


def job_env(job: str, **matrix: str) -> dict[str, str]:
    """The `env` of the job's nox step, ${{ matrix.NAME }} filled in from the job's matrix
    entry that has every value of ``matrix`` (e.g. libc="manylinux")."""
    import yaml

    strategy = yaml.safe_load(WORKFLOW.read_text())["jobs"][job].get("strategy", {})
    entries = [e for e in strategy.get("matrix", {}).get("include", []) if matrix.items() <= e.items()]
    values = entries[0] if len(entries) == 1 else matrix
    env: dict[str, str] = {}
    for step in job_steps(job):
        if "nox -s" in step.get("run", ""):
            for name, value in step.get("env", {}).items():
                env[name] = re.sub(
                    r"\$\{\{ matrix\.(\w+) \}\}", lambda m: str(values[m.group(1)]), str(value)
                )
    return env


def artifact_path(job: str, action: str, name: str | None = None) -> str:
    """The `path` of the job's upload-artifact (action "upload") or of its download-artifact
    of artifact ``name`` (action "download")."""
    paths = [
        step["with"]["path"]
        for step in job_steps(job)
        if f"actions/{action}-artifact@" in step.get("uses", "") and name in (None, step["with"].get("name"))
    ]
    if len(paths) != 1:
        raise StepFailed(
            f"ci.yml: job {job!r} should have one {action}-artifact step of {name}, it has {len(paths)}"
        )
    return str(paths[0])


def uploaded(job: str, workspace: Path) -> Path:
    """The one file that the job's upload-artifact step would upload from ``workspace``."""
    found = list(workspace.glob(artifact_path(job, "upload")))
    if len(found) != 1:
        raise StepFailed(
            f"job {job!r} uploads {artifact_path(job, 'upload')}: {len(found)} files match, not 1"
        )
    return found[0]


class Run:
    """The steps of one release path: each logged to its own file, timed, its failure shown."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.count = 0

    def step(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        shell: bool = False,
    ) -> str:
        self.count += 1
        log = self.logs / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')[:40]}.log"
        started = time.monotonic()
        shown = command[0] if shell else shlex.join(command)
        with log.open("w") as out:
            out.write(f"$ {shown}\n(in {cwd})\n")
            out.flush()
            status = subprocess.run(
                ["sh", "-c", command[0]] if shell else list(command),
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdout=out,
                stderr=subprocess.STDOUT,
            ).returncode
        text = log.read_text()
        took = time.monotonic() - started
        if status != 0:
            tail = "\n".join(text.splitlines()[-TAIL_LINES:])
            print(
                f"-- {name}: FAILED (exit {status}) after {took:.0f} s; its last lines:\n{tail}", flush=True
            )
            raise StepFailed(f"{name} failed (exit {status}); whole log: {log}")
        print(f"-- {name}: {took:.1f} s", flush=True)
        return text

    def hook(self, name: str, command: str, project: Path, env: Mapping[str, str]) -> None:
        """A cibuildwheel command option (before-build, before-test), if set, as it runs it."""
        if command:
            self.step(
                name, [prepare(command, project=project, package=project)], cwd=project, env=env, shell=True
            )


def host_nox(line: str) -> str:
    """A job's nox line for this machine: the host's nox, told where the noxfile is."""
    noxfile = shlex.quote(str(ROOT / "noxfile.py"))
    return re.sub(r"^nox ", f"{shlex.quote(sys.executable)} -m nox -f {noxfile} ", line)


def build_sdist(run: Run, workspace: Path) -> Path:
    """The `sdist` job's line, from a workspace as the job's runner has one."""
    run.step("sdist: the sdist job's nox line", [host_nox(job_nox_line("sdist"))], cwd=workspace, shell=True)
    return uploaded("sdist", workspace)


def unpack(sdist: Path, where: Path) -> Path:
    """The sdist's one top folder, unpacked under ``where`` (as cibuildwheel unpacks it)."""
    with tarfile.open(sdist) as archive:
        archive.extractall(where, filter="data")
    (project,) = [p for p in where.iterdir() if p.is_dir()]
    return project


def identifier(python: str) -> str:
    """cibuildwheel's build identifier of this interpreter on x86-64 glibc Linux."""
    code = (
        "import sys, sysconfig; v = sys.version_info; "
        "t = 't' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''; "
        "print(f'{sys.implementation.name}-{v[0]}{v[1]}{t}')"
    )
    name, version = (
        subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .split("-")
    )
    prefix = {"cpython": "cp", "pypy": "pp", "graalpy": "gp"}[name]
    return f"{prefix}{version}-manylinux_x86_64"


def cibuildwheel_settings(project: Path, env: Mapping[str, str]) -> set[str]:
    """The names of the cibuildwheel options set in the project's [tool.cibuildwheel] (its
    Linux table included) and in ``env`` (CIBW_SKIP is "skip")."""
    table = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    names = {k for k, v in table.items() if not isinstance(v, dict) or k == "environment"}
    names |= {k for k, v in table.get("linux", {}).items()}
    names |= {k[5:].lower().replace("_", "-") for k in env if k.startswith("CIBW_")}
    return names


def cibuildwheel_options(project: Path, env: Mapping[str, str], ident: str) -> tuple[bool, Any]:
    """cibuildwheel's own reading of [tool.cibuildwheel] for ``ident`` (its Linux defaults,
    CIBW_* from ``env`` included), as it reads it in the unpacked sdist: whether it builds
    ``ident``, and its options for it."""
    from cibuildwheel.options import CommandLineArguments, compute_options

    unknown = sorted(cibuildwheel_settings(project, env) - HONOURED)
    if unknown:
        raise StepFailed(f"this release path does not carry out cibuildwheel's {', '.join(unknown)}")
    arguments = CommandLineArguments.defaults()
    arguments.platform = "linux"
    with contextlib.chdir(project):
        options = compute_options("linux", arguments, env)
    return options.globals.build_selector(ident), options.build_options(ident)


def prepare(command: str, **values: str | Path) -> str:
    """cibuildwheel's placeholders ({project}, {package}, {wheel}, {dest_dir}) filled in."""
    from cibuildwheel.util.helpers import prepare_command

    return prepare_command(command, **{k: shlex.quote(str(v)) for k, v in values.items()})


def venv(run: Run, python: str, where: Path, purpose: str, env: Mapping[str, str]) -> Path:
    run.step(
        f"{purpose}: a fresh venv of {python}", [python, "-m", "venv", str(where)], cwd=where.parent, env=env
    )
    return where / "bin"


def build_compiled(
    run: Run, python: str, project: Path, scratch: Path, build: Any
) -> tuple[Path, dict[str, str]]:
    """The wheel as cibuildwheel builds and repairs it; the wheel and the build environment."""
    bin_dir = venv(run, python, scratch / "build-venv", "build", child_env())
    # The frontend at the version cibuildwheel pins for this Python (the image brings its own).
    version = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pins = build.dependency_constraints.get_for_python_version(version=version, tmp_dir=scratch)
    frontend = {"build": "build", "build[uv]": "build[uv]"}.get(build.build_frontend.name)
    if frontend is None:
        raise StepFailed(f"build-frontend {build.build_frontend.name!r}: this release path runs 'build' only")
    run.step(
        f"build: install the frontend ({frontend}, cibuildwheel's pins)",
        [str(bin_dir / "python"), "-m", "pip", "install", frontend, *(["-c", str(pins)] if pins else [])],
        cwd=project,
        env=child_env(),
    )
    base = child_env(PATH=f"{bin_dir}:{os.environ['PATH']}", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env = build.environment.as_dictionary(prev_environment=base)
    run.hook("before-build", build.before_build, project, env)
    built, repaired = scratch / "built_wheel", scratch / "repaired_wheel"
    run.step(
        "build: the wheel from the unpacked sdist (build-frontend, environment of pyproject.toml)",
        ["python", "-m", "build", str(project), "--wheel", f"--outdir={built}", *build.build_frontend.args],
        cwd=project,
        env=env,
    )
    (wheel,) = built.glob("*.whl")
    check_cython(project)
    if not build.repair_command:
        return wheel, env
    # auditwheel comes from the host (the dev extra); the image has its own.
    repair_env = {**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
    command = prepare(build.repair_command, wheel=wheel, dest_dir=repaired, package=project, project=project)
    run.step(f"repair: {command}", [command], cwd=project, env=repair_env, shell=True)
    (wheel,) = repaired.glob("*.whl")
    return wheel, env


def check_cython(project: Path) -> None:
    """The C the build generated names its Cython: it must be the one build-constraints.txt pins."""
    pinned = re.search(r"^Cython==(\S+)", (project / "build-constraints.txt").read_text(), re.M)
    generated = re.search(r"Generated by Cython (\S+)", (project / "src/fastfun/_core.c").read_text()[:200])
    used = generated.group(1) if generated else "unknown"
    if pinned is None or used != pinned.group(1):
        raise StepFailed(
            f"the wheel was compiled by Cython {used}, build-constraints.txt pins {pinned and pinned.group(1)}"
        )
    print(f"-- build: compiled by Cython {used}, the pinned one", flush=True)


def build_pure(run: Run, sdist: Path, workspace: Path) -> Path:
    """The `pure-wheel` job's line, with the sdist where the job downloads it."""
    downloads = workspace / artifact_path("pure-wheel", "download", "sdist")
    downloads.mkdir(parents=True)
    shutil.copy(sdist, downloads)
    run.step(
        "pure wheel: the pure-wheel job's nox line",
        [host_nox(job_nox_line("pure-wheel"))],
        cwd=workspace,
        shell=True,
    )
    return uploaded("pure-wheel", workspace)


def test_wheel(
    run: Run,
    python: str,
    wheel: Path,
    project: Path,
    scratch: Path,
    build: Any,
    env: Mapping[str, str],
    pure: bool,
) -> str:
    """cibuildwheel's testing step; the last line pytest printed."""
    bin_dir = venv(run, python, scratch / "test-venv", "test", env)
    venv_env = {**env, "PATH": f"{bin_dir}:{env['PATH']}", "VIRTUAL_ENV": str(bin_dir.parent)}
    venv_env = build.test_environment.as_dictionary(prev_environment=venv_env)
    # Installed as a user installs it, with none of our variables: a source install (an sdist)
    # builds here, and FASTFUN_NO_EXTENSIONS would make any build pure.
    install_env = {k: v for k, v in venv_env.items() if not k.startswith("FASTFUN_")}
    if pure:
        venv_env = install_env | PURE_ENVIRONMENT
    run.hook("before-test", build.before_test, project, venv_env)
    run.step(
        f"test: install the wheel with its test-extras {build.test_extras}",
        ["pip", "install", f"{wheel}{build.test_extras}"],
        cwd=project,
        env=install_env,
    )
    # A pure install has no compiled core at all: the environment alone would hide one.
    if pure:
        run.step(
            "test: the installed package is pure", ["python", "-c", PURE_CHECK], cwd=scratch, env=venv_env
        )
    if build.test_requires:
        run.step("test: test-requires", ["pip", "install", *build.test_requires], cwd=project, env=venv_env)
    test_cwd = scratch / "test_cwd"
    test_cwd.mkdir()
    if build.test_sources:
        raise StepFailed("test-sources is set: this release path does not copy test sources")
    fail_file = importlib.resources.files("cibuildwheel.resources") / "testing_temp_dir_file.py"
    (test_cwd / "test_fail.py").write_text(fail_file.read_text())
    command = prepare(build.test_command, project=project, package=project, wheel=wheel)
    output = run.step(f"test: {command}", [command], cwd=test_cwd, env=venv_env, shell=True)
    return (output.strip().splitlines() or ["no output"])[-1].strip("= ")


def check_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    bad = [n for n in names if FORBIDDEN.search(n)]
    if bad:
        raise StepFailed(f"{wheel.name} carries {', '.join(bad)}")
    if wheel.stat().st_size > MAX_BYTES:
        raise StepFailed(f"{wheel.name}: {wheel.stat().st_size} bytes > {MAX_BYTES}")


@contextlib.contextmanager
def scratch_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir(parents=True)
        yield keep
    else:
        with tempfile.TemporaryDirectory(prefix="fastfun-release-") as tmp:
            yield Path(tmp)


def release_path(
    python: str,
    pure: bool,
    sdist: Path | None,
    out: Path | None,
    sdist_only: bool = False,
    source_install: bool = False,
) -> int:
    started = time.monotonic()
    with scratch_dir(out) as scratch:
        logs = scratch / "logs"
        logs.mkdir()
        run = Run(logs)
        try:
            workspace = scratch / "workspace"
            workspace.mkdir()
            if sdist is None:
                sdist = build_sdist(run, workspace)
            print(f"-- sdist: {sdist.name} ({sdist.stat().st_size / 1024:.1f} KB)", flush=True)
            if sdist_only:
                print(f"prove_wheels: {sdist}")
                return 0
            project = unpack(sdist, scratch / "project")
            ident = identifier(python)
            # The options of the job that builds this wheel: the manylinux half of `wheels`.
            env = child_env() | job_env("wheels", libc="manylinux")
            selected, build = cibuildwheel_options(project, env, ident)
            if not (pure or source_install or selected):
                raise StepFailed(f"{ident} is not among the wheels [tool.cibuildwheel] builds: try --pure")
            if source_install:
                wheel, pure = sdist, True  # the test venv's pip builds it, on that interpreter
                build_env = build.environment.as_dictionary(prev_environment=child_env())
            elif pure:
                wheel = build_pure(run, sdist, workspace)
                build_env = build.environment.as_dictionary(prev_environment=child_env())
            else:
                wheel, build_env = build_compiled(run, python, project, scratch, build)
            if not source_install:
                check_contents(wheel)
            print(f"-- wheel: {wheel.name} ({wheel.stat().st_size / 1024:.1f} KB)", flush=True)
            summary = test_wheel(run, python, wheel, project, scratch, build, build_env, pure)
        except StepFailed as failure:
            print(f"prove_wheels: {failure}", file=sys.stderr)
            return 1
        print(
            f"prove_wheels: {wheel.name} from {sdist.name}: {summary}; took {time.monotonic() - started:.0f} s"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.prove_wheels",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter to build and test for (default: this one)"
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--pure", action="store_true", help="the pure py3-none-any wheel instead of the compiled one"
    )
    kind.add_argument(
        "--source-install",
        action="store_true",
        help="pip installs the sdist itself (what PyPy users get), which must build the pure package",
    )
    parser.add_argument(
        "--sdist", type=Path, help="an sdist built before (default: build it with the sdist job's line)"
    )
    parser.add_argument("--out", type=Path, help="keep every file and log here (default: a temporary folder)")
    parser.add_argument(
        "--sdist-only",
        action="store_true",
        help="stop after the sdist (kept in OUT/workspace/, as the job uploads it)",
    )
    args = parser.parse_args(argv)
    python = shutil.which(args.python)
    if python is None:
        parser.error(f"--python {args.python}: no such interpreter")
    if args.sdist_only and args.out is None:
        parser.error("--sdist-only needs --out: where the sdist stays")
    if args.sdist is not None and not args.sdist.is_file():
        parser.error(f"--sdist {args.sdist}: no such file")
    return release_path(
        python,
        args.pure,
        args.sdist.resolve() if args.sdist else None,
        args.out.resolve() if args.out else None,
        args.sdist_only,
        args.source_install,
    )


if __name__ == "__main__":
    sys.exit(main())
