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
from collections.abc import Callable
from typing import Any

try:
    from flask import Flask, Response, jsonify, request
    from werkzeug.exceptions import HTTPException
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("fastfun.app needs Flask: pip install 'fastfun[api]'") from error

import fastfun

Notify = Callable[[int], fastfun.Notification]

API_VERSION = "1.0.0"


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
        days = [
            {"date": date.isoformat(), "message": notify(date.day)} for date, _ in fastfun.month(year, month)
        ]
        return jsonify(status="success", days=days)

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


_MESSAGE: dict[str, Any] = {
    "description": "the notification: F(day) on days divisible by 7, else FizzBuzz, or null",
    "nullable": True,
    "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["Fizz", "Buzz", "FizzBuzz"]}],
}
_ERROR = {
    "description": "a bad request",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "fastfun calendar API",
        "version": API_VERSION,
        "description": "The daily fun notification of the talk 'Run Fast!'.",
    },
    "paths": {
        "/api/v1/fun": {
            "get": {
                "summary": "The fun notification of a day",
                "parameters": [
                    {
                        "name": "date",
                        "in": "query",
                        "required": False,
                        "description": "YYYY-MM-DD; today by default",
                        "schema": {"type": "string", "format": "date"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the notification",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status", "message"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "status": {"type": "string", "enum": ["success"]},
                                        "message": _MESSAGE,
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                },
            }
        },
        "/api/v1/fun/month": {
            "get": {
                "summary": "The fun notification of every day of a month",
                "parameters": [
                    {
                        "name": "year",
                        "in": "query",
                        "required": False,
                        "description": "1..9999; this year by default",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 9999},
                    },
                    {
                        "name": "month",
                        "in": "query",
                        "required": False,
                        "description": "1..12; this month by default",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 12},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "the month",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status", "days"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "status": {"type": "string", "enum": ["success"]},
                                        "days": {
                                            "type": "array",
                                            "minItems": 28,
                                            "maxItems": 31,
                                            "items": {
                                                "type": "object",
                                                "required": ["date", "message"],
                                                "additionalProperties": False,
                                                "properties": {
                                                    "date": {"type": "string", "format": "date"},
                                                    "message": _MESSAGE,
                                                },
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "responses": {
                    "200": {
                        "description": "alive",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status"],
                                    "properties": {
                                        "status": {"type": "string", "enum": ["success"]},
                                        "implementation": {"type": "string", "enum": ["compiled", "pure"]},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["status", "error"],
                "properties": {"status": {"type": "string", "enum": ["error"]}, "error": {"type": "string"}},
            }
        }
    },
}
