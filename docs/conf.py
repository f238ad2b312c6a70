"""Sphinx configuration of fastfun's documentation (``nox -s docs`` builds it, warnings as errors).

Nothing here is copied from the code: the API page is autodoc over the installed package, the
command line page is argparse over ``fastfun.cli.build_parser``, the web API page renders
``src/fastfun/openapi.json`` and the changelog page renders ``CHANGES.md`` plus the pending
fragments of ``CHANGES/``, all at build time, so no generated page can go stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fastfun

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))

project = "fastfun"
author = "fastfun developers"
copyright = "fastfun developers"
release = version = fastfun.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
    "openapi_reference",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated_*", "test_*.py"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
nitpicky = True
# The build needs no network, so it has no inventory of the Python docs to link stdlib types to.
nitpick_ignore = [("py:class", "datetime.date")]

autodoc_member_order = "bysource"
# Called as fastfun.fibonacci, whichever core defines it: the twin's module name would mislead.
add_module_names = False
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"fastfun {release}"
html_static_path: list[str] = []


def _changelog_draft() -> None:
    """Write the fragments not yet released as the next version's draft (the changelog page)."""
    draft = subprocess.run(
        [sys.executable, "-m", "towncrier", "build", "--draft", "--version", release, "--date", "unreleased"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The draft starts at its title; with no fragment pending there is nothing to show.
    start = draft.find("## ")
    pending = start >= 0 and "No significant changes." not in draft
    (HERE / "_generated_changelog_draft.md").write_text(draft[start:] if pending else "", encoding="utf-8")


_changelog_draft()
