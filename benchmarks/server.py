"""The calendar API through a real server, tried as an operator would: ``python -m benchmarks server``.

1. Throughput: ``wrk`` against one gunicorn sync worker (what ``fastfun serve`` ran before) and
   against ``fastfun serve`` with its defaults, in the same run; requests/s and p99 of each.
2. The talk's endpoint against the same server's constant endpoint (requests/s).
3. Slow clients: hundreds of connections that each send part of a request and then one
   header line every 2 s, while normal clients ask for ``/api/v1/fun``; p99 and failures.

Every server is a subprocess on 127.0.0.1, stopped with SIGTERM. The figures are wall-clock
and machine-dependent; the goals are ratios measured in one run, and a p99 bound. Exit
status 1 when a goal is missed, 2 when something could not be measured (wrk not installed).
The slow-client scenario is also what tests/test_server.py runs against ``fastfun serve``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from live_server import HOST, fastfun_serve, free_port, running, slow_clients

TALKS_PATH = "/api/v1/fun?date=2022-09-28"  # F(28): the talk's heaviest day


def constant_app() -> Any:
    """The API answering every day with ``None``: the endpoint's own cost (a granian factory)."""
    from fastfun.app import create_app

    return create_app(lambda day: None)


# -- wrk ---------------------------------------------------------------------------------------


@dataclass
class Load:
    requests_per_s: float
    p99_ms: float
    errors: int  # socket errors, time-outs and non-2xx/3xx answers

    def __str__(self) -> str:
        return f"{self.requests_per_s:9,.0f} requests/s   p99 {self.p99_ms:6.2f} ms   errors {self.errors}"


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(url: str, seconds: int, connections: int = 8) -> Load:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Load(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        # The line of the latency distribution, not a "99%" that ends another column.
        p99_ms=_ms(re.search(r"^\s+99%\s+(\S+)$", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


# -- the report --------------------------------------------------------------------------------


def _goal(text: str, figure: str, met: bool) -> bool:
    print(f"{text:<62} {figure:>12}  {'met' if met else 'MISSED'}")
    return met


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="each wrk run (default 8)")
    parser.add_argument("--slow-seconds", type=int, default=15, help="the slow-client scenario (default 15)")
    parser.add_argument("--slow", type=int, default=500, help="slow connections (default 500)")
    parser.add_argument("--idle", type=int, default=0, help="connections that send nothing (default 0)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("benchmarks server: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    from fastfun.serve import default_workers  # the api extra; only this command needs it

    print(
        f"== the calendar API through real servers (fastfun serve: {default_workers()} workers; "
        f"wrk -t1 -c8 -d{args.seconds}s)"
    )
    sync_port, serve_port, constant_port = free_port(), free_port(), free_port()
    sync_worker = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"{HOST}:{sync_port}"]
    sync_worker += ["--access-logfile", "-", "fastfun.app:create_app()"]
    serve_constant = f"serve({HOST!r}, {constant_port}, app='benchmarks.server:constant_app')"
    constant = [sys.executable, "-c", f"from fastfun.serve import serve; {serve_constant}"]
    with running(sync_worker, sync_port) as server:
        sync = wrk(server.base + TALKS_PATH, args.seconds)
        # For contrast only (not a goal): the same few seconds of slow clients, a tenth as many.
        before = slow_clients(server.port, slow=args.slow // 10, seconds=5, normal=4, timeout=2)
    print(f"gunicorn, one sync worker, {args.slow // 10} slow clients for 5 s: {before}")
    with running(fastfun_serve(serve_port), serve_port) as server, running(constant, constant_port) as base:
        # Alternated, best of three each: the two are compared on the same minutes of the machine.
        talks, constants = [], []
        for _ in range(3):
            talks.append(wrk(server.base + TALKS_PATH, args.seconds))
            constants.append(wrk(base.base + TALKS_PATH, args.seconds))
        serve = max(talks, key=lambda load: load.requests_per_s)
        constant_load = max(constants, key=lambda load: load.requests_per_s)
        print(
            f"== {args.slow} slow and {args.idle} idle clients for {args.slow_seconds} s, 4 normal on /api/v1/fun"
        )
        slow = slow_clients(server.port, slow=args.slow, seconds=args.slow_seconds, idle=args.idle)
        print(slow)
    loads = {
        "gunicorn, one sync worker": sync,
        "fastfun serve (defaults)": serve,
        "fastfun serve, constant endpoint": constant_load,
    }
    for name, load in loads.items():
        print(f"{name:<34} {load}")
    print("\n== server goals")
    met = _goal(
        "fastfun serve / one gunicorn sync worker (requests/s)",
        f"{serve.requests_per_s / sync.requests_per_s:.2f}x",
        serve.requests_per_s >= 2.5 * sync.requests_per_s,
    )
    met &= _goal(
        "constant endpoint / talk's endpoint, compiled (requests/s)",
        f"{constant_load.requests_per_s / serve.requests_per_s:.3f}x",
        constant_load.requests_per_s <= 1.05 * serve.requests_per_s,
    )
    met &= _goal(
        f"p99 with {args.slow} slow and {args.idle} idle clients open",
        f"{slow.percentile(0.99):.2f} ms",
        slow.percentile(0.99) <= 50,
    )
    met &= _goal(
        "failures and 5xx, all of the above",
        str(len(slow.failures) + sum(load.errors for load in loads.values())),
        not slow.failures and not any(load.errors for load in loads.values()),
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
