"""fastfun serve (or any server) as a subprocess on 127.0.0.1, and the slow-client scenario:
shared by tests/test_server.py and the server benchmark (benchmarks/server.py). It travels
with the tests in the sdist."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The project's root: the servers start there (the server benchmark's own app is imported
# from it), never from the caller's folder.
ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


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
