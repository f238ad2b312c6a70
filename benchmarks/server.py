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
import asyncio
import contextlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TALKS_PATH = "/api/v1/fun?date=2022-09-28"  # F(28): the talk's heaviest day


def constant_app() -> Any:
    """The API answering every day with ``None``: the endpoint's own cost (a granian factory)."""
    from fastfun.app import create_app

    return create_app(lambda day: None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fastfun_serve(port: int, *options: str) -> list[str]:
    """The command line of ``fastfun serve``, as a user runs it."""
    return [sys.executable, "-m", "fastfun", "serve", "--host", HOST, "--port", str(port), *options]


@dataclass
class Server:
    """A server subprocess: started, waited for, stopped with SIGTERM; its log kept."""

    port: int
    pid: int = 0
    log: str = ""
    exit_status: int | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextlib.contextmanager
def running(
    command: list[str],
    port: int,
    env: dict[str, str] | None = None,
    start_timeout: float = 30,
    stop_timeout: float = 15,
) -> Iterator[Server]:
    server = Server(port)
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        server.pid = process.pid
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    urllib.request.urlopen(server.base + "/healthz", timeout=2).read()
                    break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"{command} did not start:\n{log.read()}") from None
                    time.sleep(0.1)
            yield server
            process.send_signal(signal.SIGTERM)
            server.exit_status = process.wait(timeout=stop_timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.seek(0)
            server.log = log.read()


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


# -- slow clients ------------------------------------------------------------------------------


@dataclass
class SlowClients:
    """What normal clients saw while slow ones held connections."""

    latencies: list[float] = field(default_factory=list)  # seconds, one per normal request
    failures: list[str] = field(default_factory=list)
    slow_connections: int = 0  # opened in all (a closed one is reopened)
    slow_closed_by_server: int = 0
    slow_refused: int = 0  # connection attempts of slow clients that failed
    longest_slow_head: float = 0.0  # seconds a slow client kept an unfinished request open
    idle_connections: int = 0  # opened and never written to

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return (
            ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else float("nan")
        )

    def __str__(self) -> str:
        return (
            f"{len(self.latencies):,} normal requests, {len(self.failures)} failed, "
            f"p50 {self.percentile(0.5):.2f} ms, p99 {self.percentile(0.99):.2f} ms; "
            f"{self.slow_connections} slow connections opened ({self.slow_refused} refused), "
            f"{self.slow_closed_by_server} closed by the server, the longest unfinished request head "
            f"{self.longest_slow_head:.1f} s; {self.idle_connections} idle connections"
        )


async def _slow_client(port: int, drip: float, stop: asyncio.Event, report: SlowClients) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            report.slow_refused += 1
            await asyncio.sleep(drip)
            continue
        report.slow_connections += 1
        opened = loop.time()
        writer.write(b"GET /api/v1/fun HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n")
        closed = False
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(reader.read(1024), timeout=drip)
                    closed = True  # a slow client never finishes its head: any answer ends it
                    break
                except asyncio.TimeoutError:
                    writer.write(b"X-Slow: still-here\r\n")
                    await writer.drain()
        except ConnectionError:
            closed = True
        finally:
            report.longest_slow_head = max(report.longest_slow_head, loop.time() - opened)
            report.slow_closed_by_server += closed
            writer.close()


async def _idle_client(port: int, stop: asyncio.Event, report: SlowClients) -> None:
    # Opens a connection and never sends a byte: it holds a file descriptor of the server.
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return
    report.idle_connections += 1
    await stop.wait()
    writer.close()


async def _normal_client(
    port: int, path: str, timeout: float, stop: asyncio.Event, report: SlowClients
) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    while not stop.is_set():
        started = time.perf_counter()
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
            writer.write(request)
            answer = await asyncio.wait_for(reader.read(), timeout)
            status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b"no answer"
            if status != b"200":
                report.failures.append(f"status {status.decode(errors='replace')}")
        except (OSError, asyncio.TimeoutError) as error:
            report.failures.append(repr(error))
        finally:
            if writer is not None:
                writer.close()
        report.latencies.append(time.perf_counter() - started)


async def _scenario(
    port: int, slow: int, idle: int, seconds: float, normal: int, drip: float, timeout: float
) -> SlowClients:
    report, stop = SlowClients(), asyncio.Event()
    slow_tasks = [asyncio.create_task(_slow_client(port, drip, stop, report)) for _ in range(slow)]
    slow_tasks += [asyncio.create_task(_idle_client(port, stop, report)) for _ in range(idle)]
    await asyncio.sleep(min(2.0, seconds / 4))  # every slow connection open before measuring
    normal_tasks = [
        asyncio.create_task(_normal_client(port, "/api/v1/fun", timeout, stop, report)) for _ in range(normal)
    ]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*normal_tasks, *slow_tasks)
    return report


def slow_clients(
    port: int,
    slow: int = 500,
    seconds: float = 15,
    normal: int = 4,
    drip: float = 2.0,
    timeout: float = 5.0,
    idle: int = 0,
) -> SlowClients:
    """``slow`` connections each send a request line and one header line every ``drip`` seconds
    (reopened when the server closes them), and ``idle`` ones send nothing, while ``normal``
    clients request ``/api/v1/fun`` on fresh connections for ``seconds``; a normal request
    fails on any answer but 200 or after ``timeout`` seconds."""
    return asyncio.run(_scenario(port, slow, idle, seconds, normal, drip, timeout))


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
