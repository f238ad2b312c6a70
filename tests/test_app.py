"""The calendar API: every route and error class on both cores, its OpenAPI document checked
by schemathesis, and a real ``fastfun serve`` under concurrent load."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("flask", reason="the 'api' extra is not installed")

from fastfun.app import create_app


@pytest.fixture
def client(core: ModuleType) -> Any:
    return create_app(core.fun_notification).test_client()


def get(client: Any, url: str) -> tuple[int, Any]:
    response = client.get(url)
    assert response.mimetype == "application/json", url
    return response.status_code, response.get_json()


def test_the_talks_endpoint_returns_the_days_notification(client: Any) -> None:
    assert get(client, "/api/v1/fun?date=2022-09-28") == (200, {"status": "success", "message": 317811})
    assert get(client, "/api/v1/fun?date=2022-09-15") == (200, {"status": "success", "message": "FizzBuzz"})
    assert get(client, "/api/v1/fun?date=2022-09-01") == (200, {"status": "success", "message": None})


def test_without_a_date_the_endpoint_answers_for_today(client: Any, core: ModuleType) -> None:
    import datetime

    status, body = get(client, "/api/v1/fun")
    assert (status, body["message"]) == (200, core.fun_notification(datetime.date.today().day))


def test_the_month_endpoint_lists_every_day(client: Any) -> None:
    status, body = get(client, "/api/v1/fun/month?year=2024&month=2")
    assert status == 200 and body["status"] == "success"
    assert len(body["days"]) == 29
    assert body["days"][27] == {"date": "2024-02-28", "message": 317811}


def test_the_month_defaults_to_todays_year_and_month(client: Any) -> None:
    import datetime

    today = datetime.date.today()
    assert get(client, "/api/v1/fun/month")[1]["days"][0]["date"] == f"{today:%Y-%m}-01"
    assert get(client, "/api/v1/fun/month?month=2")[1]["days"][0]["date"] == f"{today.year:04d}-02-01"


def test_health_and_the_openapi_document(client: Any) -> None:
    assert get(client, "/healthz")[1]["status"] == "success"
    status, doc = get(client, "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/v1/fun", "/api/v1/fun/month", "/healthz", "/openapi.json"}


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("/api/v1/fun?date=2022-02-30", "real calendar date"),
        ("/api/v1/fun?date=28", "YYYY-MM-DD"),
        ("/api/v1/fun?date=99999-01-01", "YYYY-MM-DD"),
        ("/api/v1/fun?date=2022-9-28", "YYYY-MM-DD"),
        ("/api/v1/fun/month?year=2022&month=13", "month must be a whole number in 1..12"),
        ("/api/v1/fun/month?year=2022&month=0", "1..12"),
        ("/api/v1/fun/month?year=0&month=1", "year must be a whole number in 1..9999"),
        ("/api/v1/fun/month?year=1e9&month=1", "year must be"),
        ("/api/v1/fun/month?year=" + "9" * 5000 + "&month=1", "year must be"),
        ("/api/v1/fun/month?year=２０２２&month=1", "year must be"),  # noqa: RUF001 - fullwidth on purpose
    ],
)
def test_a_bad_parameter_is_a_json_400_saying_what_is_accepted(client: Any, url: str, fragment: str) -> None:
    status, body = get(client, url)
    assert status == 400
    assert body["status"] == "error" and fragment in body["error"]


def test_unknown_routes_and_methods_are_json_too(client: Any) -> None:
    status, body = get(client, "/api/v2/fun")
    assert status == 404 and "/api/v1/fun" in body["error"]
    response = client.post("/api/v1/fun")
    assert response.status_code == 405 and response.get_json()["status"] == "error"


def test_the_api_passes_schemathesis(core: ModuleType) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    app = create_app(core.fun_notification)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    calls: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def check(case: Any) -> None:
            calls.append(case.formatted_path)
            try:
                case.call_and_validate()
            except Exception as error:  # noqa: BLE001 - collected and reported below
                failures.append(f"{case.method} {case.formatted_path} {case.query}: {error}")

        check()
    assert failures == []
    # Every API operation was exercised (schemathesis leaves out the schema's own endpoint).
    assert {"/api/v1/fun", "/api/v1/fun/month", "/healthz"} <= set(calls)
    assert len(calls) > 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Any) -> Iterator[str]:
    port = free_port()
    log_file = tmp_path / "serve.log"
    log_handle = log_file.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastfun", "serve", "--port", str(port), "--workers", "2"],
        stdout=log_handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"fastfun serve did not start: {log_file.read_text()}")
            time.sleep(0.2)
    yield base
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=15) == 0, "fastfun serve did not stop cleanly on SIGTERM"
    finally:
        proc.kill()
    log_handle.close()
    log = log_file.read_text()
    assert "GET /api/v1/fun" in log  # every request is logged
    assert "Shutting down" in log


def test_a_real_server_under_concurrent_load_answers_every_request(server: str) -> None:
    clients, per_client = 8, 50  # bounded: 400 requests on loopback
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        for i in range(per_client):
            day = (index * per_client + i) % 28 + 1
            url = f"{server}/api/v1/fun?date=2022-02-{day:02d}"
            started = time.perf_counter()
            try:
                body = json.loads(urllib.request.urlopen(url, timeout=10).read())
                ok = body["status"] == "success"
            except Exception as error:  # noqa: BLE001 - every failure counts
                ok, body = False, repr(error)
            with lock:
                latencies.append(time.perf_counter() - started)
                if not ok:
                    errors.append(str(body))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"load: {len(latencies)} requests, {clients} clients, {len(errors)} errors, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    assert errors == []
    assert len(latencies) == clients * per_client


def test_serve_reports_a_bad_port_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fastfun", "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert result.returncode == 2
    assert result.stderr == "fastfun: error: --port must be in 1..65535, got 70000\n"
