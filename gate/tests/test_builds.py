"""A failed build's one line: the compiler's diagnostic, whatever colours pip and the compiler used."""

from __future__ import annotations

from fastfun_gate import builds

COLOURED_LOG = (
    "$ pip wheel --no-deps .\n"
    "\x1b[1msrc/core.c:12:5:\x1b[0m \x1b[1;31merror:\x1b[0m expected ';' before 'return'\n"
    "\x1b[31merror\x1b[0m: \x1b[1msubprocess-exited-with-error\x1b[0m\n"
    "\x1b[31m\u00d7\x1b[0m Building wheel for demo (pyproject.toml) did not run successfully.\n"
    "\x1b[31m\u2502\x1b[0m exit code: \x1b[1;36m1\x1b[0m\n"
    "\x1b[1;35mnote\x1b[0m: This error originates from a subprocess.\n"
)


def test_a_coloured_log_is_quoted_by_its_diagnostic_without_colour() -> None:
    assert builds.failure_lines(COLOURED_LOG) == "src/core.c:12:5: error: expected ';' before 'return'"
