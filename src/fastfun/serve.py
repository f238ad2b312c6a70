"""``fastfun serve``: the API under granian, a WSGI server whose connections live in Rust (hyper).

Why granian and not gunicorn's sync workers (docs/webapi.md has the figures): a sync
worker is held by one connection until its request is complete, so a handful of clients that
send half a request and wait stop the service (slowloris). granian reads and parses requests on
its own threads, outside the GIL, and hands Flask only complete ones; it also serves about three
times the requests per second on this machine.

What a client cannot do, by construction:
- hold a connection with an unfinished request head: the head must arrive within
  ``HEADER_TIMEOUT_MS`` (then the connection is closed);
- make a worker buffer more than ``MAX_BUFFER_BYTES`` for one connection (request line and
  headers included: a longer head is refused with 431 and the connection closed);
- send a query string longer than the app accepts (``fastfun.app.MAX_QUERY_BYTES``: JSON 414);
- crowd out other clients with connections that never send a byte. granian starts the head's
  clock at the first byte, so such a connection is held until the client leaves, and its
  ``backpressure`` caps the connections a worker accepts (by default backlog / workers: 512
  on 2 CPUs, which 1,100 idle connections were measured to fill, every other request then
  timing out). The cap here is ``MAX_CONNECTIONS_PER_WORKER``, with the file-descriptor
  limit raised to match; memory stays bounded (at most ``MAX_BUFFER_BYTES`` each).

SIGTERM and SIGINT stop accepting, let requests in flight finish (at most
``SHUTDOWN_TIMEOUT_S``), then exit 0. Every request is logged to stderr.
"""

from __future__ import annotations

import os
import socket
import sys

from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings

HEADER_TIMEOUT_MS = 10_000
MAX_BUFFER_BYTES = 16 * 1024
SHUTDOWN_TIMEOUT_S = 10
# Python threads per worker: every request is short and CPU-bound, so more threads only
# contend for the GIL (wrk, 8 and 64 connections: p99 1.0-2.4 ms with 1 or 2, up to 20 ms
# with 8); 2 keeps one slower request (a year's feed, 18 ms) from holding up its worker.
PYTHON_THREADS = 2
MAX_CONNECTIONS_PER_WORKER = 2048
ACCESS_LOG_FORMAT = '%(addr)s - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f ms'


def default_workers() -> int:
    """One worker process per CPU this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def connections_per_worker(workers: int) -> int:
    """The connection cap of each worker: ``MAX_CONNECTIONS_PER_WORKER``, with the soft limit
    on open files raised to fit (never past the hard limit, which then lowers the cap)."""
    if sys.platform == "win32":  # pragma: no cover - no resource module
        return MAX_CONNECTIONS_PER_WORKER
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = workers * MAX_CONNECTIONS_PER_WORKER + 256  # + the server's own files
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return max(1, min(MAX_CONNECTIONS_PER_WORKER, (soft - 256) // workers))


class AddressUnavailable(OSError):
    """The address cannot be served; the message says why, in words."""


def check_address(host: str, port: int) -> None:
    """Raise AddressUnavailable when ``host:port`` cannot be served.

    granian binds with SO_REUSEPORT, so a port that another server already listens on would
    be shared silently, and a bad address ends in a Rust backtrace: a plain bind first turns
    both into one line.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAITs are fine
        try:
            probe.bind((host, port))
        except OSError as error:
            raise AddressUnavailable(f"cannot serve on {host}:{port}: {error.strerror or error}") from None


def serve(
    host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, app: str = "fastfun.app:create_app"
) -> None:
    """Serve until SIGTERM or SIGINT; ``app`` names a factory of the WSGI app (the benchmarks
    serve another through the same setup). Raises AddressUnavailable before starting when
    the address cannot be served."""
    check_address(host, port)
    workers = workers or default_workers()
    Granian(
        app,
        factory=True,
        interface=Interfaces.WSGI,
        websockets=False,  # WSGI has none; granian would say so on every start
        address=host,
        port=port,
        workers=workers,
        blocking_threads=PYTHON_THREADS,
        backpressure=connections_per_worker(workers),
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_TIMEOUT_MS, max_buffer_size=MAX_BUFFER_BYTES),
        log_access=True,
        log_access_format=ACCESS_LOG_FORMAT,
        workers_kill_timeout=SHUTDOWN_TIMEOUT_S,
    ).serve()
