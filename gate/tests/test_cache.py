"""The gate's build cache, shared by processes: never over its bound, a build in use never
pruned, a build asked for by two processes at once made once. Builds here are a few files
made in a fraction of a second, so that many processes can race in a few seconds."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from fastfun_gate import cache

# fork: the workers are plain functions of this module, started from pytest's process.
FORK = multiprocessing.get_context("fork")


def make_slowly(home: Path) -> None:
    """A stand-in build: takes a moment, records who made it."""
    time.sleep(0.2)
    with (home.parent / "made.log").open("a") as log:
        log.write(f"{home.name} {os.getpid()}\n")
    (home / "venv").mkdir()


def use_in_turn(folder: str, keys: list[str], bound: int) -> None:
    for key in keys:
        lease, _ = cache.acquire(Path(folder), key, make_slowly, bound=bound, wait=30)
        assert (lease.home / "venv").is_dir()  # not pruned under it
        time.sleep(0.1)
        assert (lease.home / "venv").is_dir()
        lease.release()


def hold(folder: str, key: str, holding: Event, done: Event) -> None:
    lease, _ = cache.acquire(Path(folder), key, make_slowly, bound=8)
    holding.set()
    done.wait(30)
    lease.release()


@contextmanager
def held_by_another_process(folder: Path, key: str) -> Iterator[None]:
    holding, done = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=hold, args=(str(folder), key, holding, done))
    holder.start()
    try:
        assert holding.wait(30)
        yield
    finally:
        done.set()
        holder.join(30)
    assert holder.exitcode == 0


def run_all(processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0


def test_the_cache_never_holds_more_builds_than_its_bound(tmp_path: Path) -> None:
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(len(cache.builds_in(tmp_path)) if tmp_path.exists() else 0)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    keys = [f"build{i}" for i in range(6)]
    workers = [FORK.Process(target=use_in_turn, args=(str(tmp_path), keys[i::2] + keys, 2)) for i in range(3)]
    try:
        run_all(workers)
    finally:
        stop.set()
        watcher.join()
    assert max(seen) == 2  # reached, never passed
    assert len(cache.builds_in(tmp_path)) <= 2


def test_a_build_in_use_by_another_process_is_never_pruned(tmp_path: Path) -> None:
    with held_by_another_process(tmp_path, "held"):
        for key in ["a", "b", "c"]:  # with a bound of 2, each pushes out the one before
            cache.acquire(tmp_path, key, make_slowly, bound=2)[0].release()
            assert (tmp_path / "held" / "ok").exists()
        assert sorted(p.name for p in cache.builds_in(tmp_path)) == ["c", "held"]


def test_one_build_asked_for_by_two_processes_at_once_is_made_once(tmp_path: Path) -> None:
    run_all([FORK.Process(target=use_in_turn, args=(str(tmp_path), ["same"], 2)) for _ in range(2)])
    assert len((tmp_path / "made.log").read_text().splitlines()) == 1


def test_a_gate_finding_every_build_in_use_waits_then_says_why(tmp_path: Path) -> None:
    with held_by_another_process(tmp_path, "held"):
        with pytest.raises(
            TimeoutError,
            match=r"holds 1 builds, every one in use .*\(FASTFUN_GATE_CACHE_BUILDS raises the bound\)",
        ):
            cache.acquire(tmp_path, "other", make_slowly, bound=1, wait=1.5)
    lease, made = cache.acquire(tmp_path, "other", make_slowly, bound=1, wait=5)  # released: room
    assert made and not (tmp_path / "held").exists()
    lease.release()


def test_a_build_that_failed_is_made_again(tmp_path: Path) -> None:
    def failing(home: Path) -> None:
        (home / "half").write_text("")
        raise RuntimeError("the compiler said no")

    with pytest.raises(RuntimeError):
        cache.acquire(tmp_path, "k", failing, bound=2)
    lease, made = cache.acquire(tmp_path, "k", make_slowly, bound=2)
    assert made and not (tmp_path / "k" / "half").exists()
    lease.release()


def test_a_failed_build_is_pruned_before_a_good_one(tmp_path: Path) -> None:
    """Seen: two mistaken runs (a missing requirements file, an unknown group) left their
    failed builds in a cache of 6 and pushed out a good build that the next run needed."""

    def failing(home: Path) -> None:
        (home / "build.log").write_text("ERROR: no such file\n")
        (home / "venv").mkdir()
        raise RuntimeError("pip said no")

    cache.acquire(tmp_path, "good", make_slowly, bound=2)[0].release()
    for key in ("failed-1", "failed-2"):
        with pytest.raises(RuntimeError):
            cache.acquire(tmp_path, key, failing, bound=2)
        assert sorted(p.name for p in (tmp_path / key).iterdir()) == ["build.log", "used"]
    cache.acquire(tmp_path, "other", make_slowly, bound=2)[0].release()
    assert sorted(home.name for home in cache.builds_in(tmp_path)) == ["good", "other"]


@pytest.mark.parametrize("value", ["0", "-1", "six"])
def test_a_bound_that_is_not_a_positive_whole_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(cache.BOUND_VARIABLE, value)
    with pytest.raises(ValueError, match="expected a whole number of builds, at least 1"):
        cache.bound_from_env()


def test_a_relative_cache_folder_is_resolved_against_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cache.FOLDER_VARIABLE, "builds")
    assert cache.folder_from_env() == tmp_path / "builds"
