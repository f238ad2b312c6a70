"""Refuse a release whose version has no changelog entry: ``python -m tools.changelog --check-version X``.

The release job of ``.github/workflows/ci.yml`` runs it (through ``nox -s changelog``) on the tag
before anything is published. A version passes when ``CHANGES.md`` (``[tool.towncrier]
filename``) has a section titled with it and no fragment in ``CHANGES/`` is left unreleased
(``towncrier build --version X`` renders them and deletes them). Standard library only, so it
runs on a bare runner; each reason to refuse is one line on stderr, and the exit status 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the release job runs 3.12
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def problems(version: str, root: Path = ROOT) -> list[str]:
    """What keeps ``version`` from being released, in the order a maintainer fixes it."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["towncrier"]
    changelog = root / config["filename"]
    fragments = root / config["directory"]
    ignored = set(config.get("ignore", []))
    found = []
    # The title towncrier writes for a version: title_format with the version in it.
    title = re.escape(config["title_format"].split("{version}")[0]) + re.escape(version) + r"(?![\w.])"
    text = changelog.read_text(encoding="utf-8") if changelog.exists() else ""
    if not re.search("^" + title, text, re.MULTILINE):
        found.append(
            f"{changelog.name} has no entry for {version}: run `towncrier build --version {version}` and commit it"
        )
    pending = sorted(p.name for p in fragments.iterdir() if p.is_file() and p.name not in ignored)
    if pending:
        found.append(
            f"{len(pending)} fragment(s) in {fragments.name}/ are not in a release yet: {', '.join(pending)}"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.changelog", description=__doc__.splitlines()[0])
    parser.add_argument("--check-version", required=True, metavar="X.Y.Z", help="a version, or a tag vX.Y.Z")
    args = parser.parse_args(argv)
    version = args.check_version.removeprefix("v")
    found = problems(version)
    for problem in found:
        print(f"changelog: refusing {version}: {problem}", file=sys.stderr)
    if not found:
        print(f"changelog: {version} has its entry and no fragment is pending")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
