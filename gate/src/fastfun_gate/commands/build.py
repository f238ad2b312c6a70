"""``key REV`` and ``build REV``: a revision's build in the gate's cache, for CI's cache.

    fastfun-gate key origin/main      # prints the build's name: cache FASTFUN_GATE_CACHE under it
    fastfun-gate build origin/main    # builds it into FASTFUN_GATE_CACHE (CI does it on main)

The revision's own [tool.fastfun-gate] says how its venv is installed, with the flags over it,
as a comparison whose base is that revision would build it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fastfun_gate import builds, cache, config, git
from fastfun_gate.commands import Command, options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rev", metavar="REV", help="the revision, e.g. HEAD or origin/main")
    options.add_repo(parser)
    options.add_install(parser)


def _settings(args: argparse.Namespace) -> tuple[Path, str, config.Config]:
    repo = options.repo_of(args)
    commit = git.commit_of(repo, args.rev)
    return repo, commit, config.of_revision(repo, commit, options.flags_of(args))


def show_key(args: argparse.Namespace) -> int:
    repo, commit, settings = _settings(args)
    print(builds.key_of(repo, commit, settings.install, options.measure().worker_requirements()))
    return 0


def build(args: argparse.Namespace) -> int:
    repo, commit, settings = _settings(args)
    made = builds.build(
        repo,
        commit,
        settings.install,
        options.measure().worker_requirements(),
        cache.folder_from_env(),
        options.say,
    )
    print(made.home)
    return 0


KEY = Command(
    "key", "print the name of a revision's build in the gate's cache", add_arguments, show_key, __doc__
)
BUILD = Command(
    "build", "build a revision into the gate's cache and print where", add_arguments, build, __doc__
)
