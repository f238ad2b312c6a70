"""Every example of the README and of the docs pages, run (``nox -s docs`` runs this file).

Sybil reads the fenced blocks; how each language is run is written once, on the docs'
Contributing page ("The docs"). In short: ``python`` blocks are doctests, ``console`` blocks
are shell transcripts whose output must match, ``sh`` blocks must succeed unless a
``<!-- not-run: reason -->`` comment says why not, ``text`` blocks are transcripts of measured
runs, ``toml`` and ``yaml`` blocks are files a reader copies: they must parse (a
``[tool.fastfun-gate]`` table as the gate reads it, a workflow's every job with ``runs-on`` and
``steps``). A block in any other language, or none, fails: nothing is skipped in silence.
"""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
import yaml
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import PythonCodeBlockParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if not p.name.startswith("_"))]
# The languages a block may have, and what happens to it.
RUN = {"python", "console", "sh"}
TRANSCRIPT = {"text"}
FILES = {"toml", "yaml"}
# The README's two commands: .ci/run runs the test command, the main job the main command.
MARKERS = ("<!-- main-command -->", "<!-- test-command -->")
NOT_RUN = re.compile(r"<!-- not-run: (?P<reason>\S.*?) -->")
EXIT_LINE = re.compile(r"\[exit status (\d+)\]")
SEPARATOR = "@@fastfun-docs-example@@"
TIMEOUT_S = 120


def _environment() -> dict[str, str]:
    # The session's own interpreter and console scripts come first: `python` and `fastfun` in an
    # example are the installed ones under test.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _marker_before(document: Document, start: int) -> str:
    """The line right above a block (blank lines skipped)."""
    lines = [line for line in document.text[:start].splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _fences(document: Document) -> Iterator[Region]:
    yield from FencedCodeBlockLexer(language=r"[^\n]*", mapping={"language": "language", "source": "source"})(
        document
    )


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def _transcript(source: str) -> list[tuple[str, str]]:
    """A console block as (command, expected output) pairs; '> ' lines continue a command."""
    pairs: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif line.startswith("> ") and pairs and not pairs[-1][1]:
            pairs[-1] = (pairs[-1][0] + "\n" + line[2:], [])
        elif pairs:
            pairs[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"a console block must start with a '$ ' command, not {line!r}")
    return [(command, "\n".join(output)) for command, output in pairs]


def evaluate_console(example: Example) -> str | None:
    pairs = _transcript(str(example.parsed))
    script = ["exec 2>&1", "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT"]
    for command, _ in pairs:
        script += [
            f"printf '%s\\n' '{SEPARATOR}'",
            command,
            'status=$?; [ "$status" = 0 ] || echo "[exit status $status]"',
        ]
    result = _bash("-c", "\n".join(script))
    outputs = result.stdout.split(SEPARATOR + "\n")[1:]
    checker = doctest.OutputChecker()
    failures = []
    for (command, expected), got in zip(pairs, outputs, strict=False):
        want, have = _normalized(expected), _normalized(got)
        if not checker.check_output(want + "\n", have + "\n", doctest.ELLIPSIS):
            failures.append(f"$ {command}\nexpected:\n{want}\ngot:\n{have}")
    if len(outputs) != len(pairs):
        failures.append(f"the shell ran {len(outputs)} of {len(pairs)} commands: {result.stdout[-2000:]}")
    return "\n\n".join(failures) or None


def _bash(*args: str) -> subprocess.CompletedProcess[str]:
    """bash with ``args``, in a scratch folder, with the session's fastfun and python first."""
    with tempfile.TemporaryDirectory(prefix="fastfun-docs-") as scratch:
        return subprocess.run(
            ["bash", *args],
            cwd=scratch,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )


def evaluate_sh(example: Example) -> str | None:
    result = _bash("-e", "-o", "pipefail", "-c", str(example.parsed))
    if result.returncode:
        return f"exit status {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    return None


def evaluate_toml(example: Example) -> str | None:
    data = tomllib.loads(str(example.parsed))
    table = data.get("tool", {}).get("fastfun-gate")
    if table is not None:
        # As the gate reads it (the docs session installs ./gate): UsageError names a bad key.
        importlib.import_module("fastfun_gate.config").parse(table, "this block")
    return None


def evaluate_yaml(example: Example) -> str | None:
    data = yaml.safe_load(str(example.parsed))
    if not isinstance(data, dict):
        return "a yaml block must be a mapping"
    for name, job in (data.get("jobs") or {}).items():
        missing = [key for key in ("runs-on", "steps") if key not in job]
        if missing:
            return f"job {name}: no {', '.join(missing)}"
        bad = [step for step in job["steps"] if ("uses" in step) == ("run" in step)]
        if bad:
            return f"job {name}: a step needs either uses or run: {bad[0]}"
    return None


def parse_files(document: Document) -> Iterator[Region]:
    for region in _fences(document):
        language = region.lexemes["language"]
        if language in FILES:
            region.parsed = region.lexemes["source"]
            region.evaluator = evaluate_toml if language == "toml" else evaluate_yaml
            yield region


def parse_shell(document: Document) -> Iterator[Region]:
    for region in _fences(document):
        language = region.lexemes["language"]
        above = _marker_before(document, region.start)
        if language == "console":
            region.parsed, region.evaluator = region.lexemes["source"], evaluate_console
            yield region
        elif language == "sh" and above not in MARKERS and not NOT_RUN.fullmatch(above):
            region.parsed, region.evaluator = region.lexemes["source"], evaluate_sh
            yield region


SYBIL = Sybil(
    parsers=[PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS), parse_shell, parse_files],
    path=str(ROOT),
)
DOCUMENTS = [SYBIL.parse(path) for path in SOURCES]


def _name(example: Example) -> str:
    return f"{Path(example.path).relative_to(ROOT)}:{example.line}"


@pytest.mark.parametrize("example", [e for d in DOCUMENTS for e in d], ids=_name)
def test_the_example_holds(example: Example) -> None:
    example.evaluate()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(Path(d.path).relative_to(ROOT)))
def test_every_block_is_run_or_says_why_not(document: Document) -> None:
    run = [region for _, region in document.regions]
    for region in _fences(document):
        language = region.lexemes["language"]
        if language.startswith("{"):  # a MyST directive (toctree, include, autodoc...), not code
            continue
        where = f"{Path(document.path).relative_to(ROOT)}:{document.line_column(region.start)}"
        assert language in RUN | TRANSCRIPT | FILES, (
            f"{where}: a block of language {language!r} cannot be run"
        )
        if language in RUN:
            above = _marker_before(document, region.start)
            evaluated = any(region.start <= r.start < region.end for r in run)
            assert evaluated or above in MARKERS or NOT_RUN.fullmatch(above), (
                f"{where}: this {language} block is not run"
            )


def test_the_readme_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert targets
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert missing == []
