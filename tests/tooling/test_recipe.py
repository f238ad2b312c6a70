"""tools/recipe.py, which gives .ci/run docs/gate.md's CI recipe to run under act: it must take
the page's block as written and change the pin alone. The jobs themselves run in .ci/run."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tools import recipe

PAGE = recipe.ROOT / "docs" / "gate.md"


def test_the_recipe_is_the_page_s_block_with_only_its_pin_filled_in(tmp_path: Path) -> None:
    out = tmp_path / "gate.yml"
    assert recipe.main(["--out", str(out), "--gate", "git+file://localhost/x@c0ffee#subdirectory=gate"]) == 0
    block = PAGE.read_text().split("## The CI recipe", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    changed = [
        line
        for line in difflib.ndiff(block.splitlines(), out.read_text().splitlines())
        if line.startswith(("- ", "+ "))
    ]
    assert changed == [
        f'-   GATE: "fastfun-gate @ {recipe.PIN}"',
        '+   GATE: "fastfun-gate @ git+file://localhost/x@c0ffee#subdirectory=gate"',
    ]
    assert "\n  gate-cache:\n" in block and "\n  gate:\n" in block


def test_the_sharded_recipe_puts_the_sharding_section_s_jobs_in_place_of_gate() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with the release extra")
    page = PAGE.read_text()
    plain, sharded = yaml.safe_load(recipe.recipe(page)), yaml.safe_load(recipe.recipe(page, sharded=True))
    section = yaml.safe_load(recipe.block(page, recipe.SHARDING))
    assert list(sharded["jobs"]) == ["gate-cache", "gate", "gate-merge"]
    assert sharded["jobs"]["gate"] == section["jobs"]["gate"] != plain["jobs"]["gate"]
    assert sharded["jobs"]["gate-merge"] == section["jobs"]["gate-merge"]
    del plain["jobs"]["gate"], sharded["jobs"]["gate"], sharded["jobs"]["gate-merge"]
    assert sharded == plain


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("# fastfun-gate\n", "no heading"),
        ("## The CI recipe\n\nnone here\n", "no ```yaml block"),
        ("## The CI recipe\n\n```yaml\nenv: {GATE: other}\n```\n", "does not name the gate"),
        (f"## The CI recipe\n\n```yaml\nGATE: {recipe.PIN}\nx: OWNER\n```\n", "a placeholder is left"),
    ],
)
def test_a_page_without_the_recipe_in_its_shape_is_one_line_and_exit_2(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys, text, says
) -> None:
    page = tmp_path / "gate.md"
    page.write_text(f"\n{text}")
    assert recipe.main(["--out", str(tmp_path / "gate.yml"), "--page", str(page)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
