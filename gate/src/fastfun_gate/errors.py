"""The two ways a gate run ends without a verdict; each message is one line a user can act on."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake on the command line or in ``[tool.fastfun-gate]``: exit 2, nothing measured."""


class Undecided(Exception):
    """The gate cannot decide (a build failed, a benchmark cannot run, git refused): exit 2."""
