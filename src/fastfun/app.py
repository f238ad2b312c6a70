"""The calendar app's API from the talk, as a Flask application (``pip install 'fastfun[api]'``).

- ``GET /api/v1/fun[?date=YYYY-MM-DD]``: the day's fun notification (today by default);
- ``GET /api/v1/fun/month[?year=Y&month=M]``: every day of a month (each defaults to today's);
- ``GET /healthz``; ``GET /openapi.json``: this API described in OpenAPI 3.

Every error is JSON, ``{"status": "error", "error": ...}``: 400 for a bad parameter, 404 and
405 likewise; no request can reach an unhandled exception or a huge Fibonacci number (a
notification only ever sees a day of the month, 1..31).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from flask import Flask, Response, jsonify, request
    from werkzeug.exceptions import HTTPException
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("fastfun.app needs Flask: pip install 'fastfun[api]'") from error

import fastfun

Notify = Callable[[int], fastfun.Notification]

# The OpenAPI 3 document of this API, kept as data beside it (schemathesis tests the two
# against each other).
OPENAPI: dict[str, Any] = json.loads(Path(__file__).with_name("openapi.json").read_text())


class BadRequest(ValueError):
    """A parameter the API cannot accept; its message says what is accepted."""


def _date(text: str | None) -> datetime.date:
    if text is None:
        return datetime.date.today()
    try:
        if len(text) != 10:
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"date must be a real calendar date written YYYY-MM-DD, got {text!r}") from None


def _number(name: str, text: str | None, low: int, high: int, default: int) -> int:
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise BadRequest(f"{name} must be a whole number in {low}..{high}, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number in {low}..{high}, got {value}")
    return value


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(status="error", error=message), status


def create_app(notify: Notify | None = None) -> Flask:
    """The API as a WSGI application.

    ``notify`` computes a day's notification; fastfun's own by default. The benchmarks pass
    the talk's versions here to measure them through the full stack.
    """
    notify = notify or fastfun.fun_notification
    app = Flask("fastfun")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.get("/api/v1/fun")
    def fun() -> Any:
        day = _date(request.args.get("date"))
        return jsonify(status="success", message=notify(day.day))

    @app.get("/api/v1/fun/month")
    def fun_month() -> Any:
        today = datetime.date.today()
        year = _number("year", request.args.get("year"), datetime.MINYEAR, datetime.MAXYEAR, today.year)
        month = _number("month", request.args.get("month"), 1, 12, today.month)
        days = fastfun.month(year, month)
        if notify is not fastfun.fun_notification:  # another notification (the benchmarks')
            days = [(date, notify(date.day)) for date, _ in days]
        return jsonify(
            status="success", days=[{"date": date.isoformat(), "message": message} for date, message in days]
        )

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="success", implementation=fastfun.IMPLEMENTATION)

    @app.get("/openapi.json")
    def openapi() -> Any:
        return jsonify(OPENAPI)

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest) -> tuple[Response, int]:
        return _error(400, str(error))

    @app.errorhandler(404)
    def not_found(error: HTTPException) -> tuple[Response, int]:
        return _error(404, f"no such endpoint: {request.path}; the API serves " + ", ".join(OPENAPI["paths"]))

    @app.errorhandler(405)
    def not_allowed(error: HTTPException) -> tuple[Response, int]:
        return _error(405, f"method {request.method} is not allowed on {request.path}; use GET")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return _error(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:  # pragma: no cover - a bug
        app.logger.exception("unexpected error")
        return _error(500, "internal error")

    return app
