"""The command line as users run it: mistakes are one line on stderr and exit 2, never a
traceback; the installed script and ``python -m fastfun_gate`` are the same program."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fastfun_gate import cli
from fastfun_gate.commands import options


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "a command is needed"),
        (["frobnicate"], "invalid choice"),
        (["compare"], "required: --base"),
        (["compare", "--base", "HEAD", "--threshold", "x"], "expected a number"),
        (["compare", "--base", "HEAD", "--shard", "3/2"], "expected K/N"),
        (["compare", "--base", "HEAD", "--tripwire", "0.9"], "above 1"),
        (["compare", "--base", "HEAD", "--threshold-for", "nothing"], "expected GLOB=FRACTION"),
        (["compare", "--base", "no-such-revision"], "is not a commit"),
        (["compare", "--base", "HEAD", "--head", "HEAD", "--worktree"], "give no --head"),
        (["key", "HEAD", "--repo", "/"], "not in a git repository"),
        (["merge", "/no/such/report.json"], "not a readable JSON report"),
    ],
)
def test_a_mistake_is_one_line_on_stderr_and_exit_2(argv, says, capsys, pure) -> None:  # type: ignore[no-untyped-def]
    repo, _ = pure
    if argv[:1] == ["compare"]:
        argv = [*argv, "--repo", str(repo)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fastfun-gate") and says in err, err


def test_a_missing_valgrind_is_one_line(capsys, pure, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo, commits = pure
    monkeypatch.setattr(shutil, "which", lambda name: None)
    status = cli.main(["compare", "--repo", str(repo), "--base", commits["base"], "--head", commits["aa"]])
    assert status == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "fastfun-gate: undecided: valgrind is not installed (on Debian or Ubuntu: apt-get install valgrind)"
    )


def test_an_internal_error_is_undecided_in_one_line(capsys, monkeypatch, pure) -> None:  # type: ignore[no-untyped-def]
    repo, commits = pure

    def broken():  # type: ignore[no-untyped-def]
        raise KeyError("a bug")

    monkeypatch.setattr(options, "measure", broken)
    assert cli.main(["key", commits["base"], "--repo", str(repo)]) == 2
    assert capsys.readouterr().err == "fastfun-gate: undecided: internal error: KeyError: 'a bug'\n"


def test_the_script_and_python_m_are_the_same_program(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "fastfun-gate"
    for command in ([str(script)], [sys.executable, "-m", "fastfun_gate"]):
        done = subprocess.run(
            [*command, "compare", "--base", "HEAD"], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr == "fastfun-gate: --repo .: not in a git repository\n"


def test_key_names_a_build_by_every_input(pure, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    repo, commits = pure

    def key(*more: str) -> str:
        assert cli.main(["key", commits["base"], "--repo", str(repo), *more]) == 0
        return capsys.readouterr().out.strip()

    first = key()
    assert key() == first
    assert key("--with", "six") != first
    assert (
        cli.main(["key", commits["aa"], "--repo", str(repo)]) == 0
        and capsys.readouterr().out.strip() != first
    )
    monkeypatch.setenv("CFLAGS", "-O0")
    assert key() != first
