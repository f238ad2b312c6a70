"""The calendar app's API from the talk, as a Flask application (``pip install 'fastfun[api]'``).

- ``GET /api/v1/fun[?date=YYYY-MM-DD]``: the day's fun notification (today by default);
- ``GET /api/v1/fun/month[?year=Y&month=M]``: every day of a month (each defaults to today's);
- ``GET /api/v1/fun/calendar.ics[?from=YYYY-MM-DD&days=N]``: the same as a calendar feed;
- ``GET /healthz``; ``GET /openapi.json``: this API described in OpenAPI 3.1.

"Today" is today in ``tz`` (an IANA zone name, any endpoint), else in the server's local zone.
Every answer names the date it is about. A dated answer never changes: it is cacheable for a
year and carries a strong ETag (``If-None-Match`` gives 304); an undated one is cacheable until
midnight in its zone.

A date is written ``YYYY-MM-DD`` and nothing else. Every error is JSON,
``{"status": "error", "error": ...}``, and never cached (``Cache-Control: no-store``): 400 for a
bad parameter or a bad ``Host`` (none in HTTP/1.1, or two: RFC 9112), 414 for an oversized
query, 404, and 405 with its ``Allow`` list; no request can reach an unhandled exception or a
huge Fibonacci number (a notification only ever sees a day of the month, 1..31).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import icalendar
    from flask import Flask, Response, jsonify, request
    from werkzeug.exceptions import HTTPException, MethodNotAllowed
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("fastfun.app needs Flask and icalendar: pip install 'fastfun[api]'") from error

import fastfun

Notify = Callable[[int], fastfun.Notification]

# The OpenAPI 3 document of this API, kept as data beside it (schemathesis tests the two
# against each other); the zone names tz accepts are this system's, filled in when served.
OPENAPI: dict[str, Any] = json.loads(Path(__file__).with_name("openapi.json").read_text())

# Every parameter of every endpoint fits in far less; the server bounds the request head too.
MAX_QUERY_BYTES = 1024
MAX_FEED_DAYS = 366
DEFAULT_FEED_DAYS = 31
# A dated answer is a pure function of its URL.
FOREVER = "public, max-age=31536000, immutable"
# RFC 9111 lets a cache keep a 404, 405 or 414 without being told: no error is ever kept.
NEVER = "no-store"
# How often a calendar app should fetch a subscribed feed again: its default window starts
# today, so it moves by a day each day (RFC 7986 REFRESH-INTERVAL; X-PUBLISHED-TTL for Outlook).
FEED_REFRESH = datetime.timedelta(days=1)
FEED_NAME = "fastfun: the daily fun notification"
# Requests that may come without a Host header (granian writes HTTP/1.0 as "HTTP/1").
NO_HOST_NEEDED = frozenset({"HTTP/1.0", "HTTP/1"})


class BadRequest(ValueError):
    """A parameter the API cannot accept; its message says what is accepted."""


@functools.cache
def _zone_names() -> frozenset[str]:
    # Read once: the system's zone database, else the tzdata package's (the api extra has it).
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _openapi() -> bytes:
    document = json.loads(json.dumps(OPENAPI))
    document["components"]["parameters"]["tz"]["schema"]["enum"] = sorted(_zone_names())
    return json.dumps(document).encode()


def _zone(text: str | None) -> zoneinfo.ZoneInfo | None:
    if text is None:
        return None
    if text not in _zone_names():
        raise BadRequest(f"tz must be an IANA time zone name such as Asia/Tokyo or UTC, got {text!r}")
    return zoneinfo.ZoneInfo(text)


def _clock() -> datetime.datetime:
    """Now, in UTC (the tests set their own clock here)."""
    return datetime.datetime.now(datetime.timezone.utc)


def _now(zone: zoneinfo.ZoneInfo | None) -> datetime.datetime:
    """Now in ``zone``, or in the server's local zone."""
    return _clock().astimezone(zone)


def _today(zone: zoneinfo.ZoneInfo | None) -> tuple[datetime.date, str]:
    """Today in ``zone``, and the Cache-Control of an answer about it: public until the day
    ends there (one reading of the clock for both)."""
    now = _now(zone)
    tomorrow = now.date() + datetime.timedelta(days=1)
    if zone is None:  # the local zone: mktime knows its daylight-saving rules
        midnight = time.mktime((tomorrow.year, tomorrow.month, tomorrow.day, 0, 0, 0, 0, 0, -1))
    else:  # as timestamps, so that a daylight-saving change tonight is counted
        midnight = datetime.datetime.combine(tomorrow, datetime.time(), zone).timestamp()
    return now.date(), f"public, max-age={max(1, math.ceil(midnight - now.timestamp()))}"


def _date(name: str, text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        # YYYY-MM-DD in ASCII digits, the one written form of a date: fromisoformat alone also
        # takes 20220928, 2022-W39-3 and more (Python 3.11+). Checked without a regular
        # expression, whose match costs a request 5 allocations, 2.3 KB (python -m benchmarks
        # count test_api_fun). The digits are checked here too: a pure-Python datetime (PyPy's)
        # reads each field with int(), which takes "+022", " 022", "2_22" and other digits.
        shaped = len(text) == 10 and text[4] == text[7] == "-" and text.replace("-", "").isdigit()
        if not (shaped and text.isascii()):
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be a real calendar date written YYYY-MM-DD, got {text!r}") from None


def _number(name: str, text: str | None, low: int, high: int) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise BadRequest(f"{name} must be a whole number in {low}..{high}, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number in {low}..{high}, got {value}")
    return value


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> tuple[Response, int]:
    response = jsonify(status="error", error=message)
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = NEVER
    return response, status


def _headers(error: HTTPException) -> dict[str, str]:
    """The headers werkzeug gives an error (a 405's Allow, RFC 9110), less its HTML's type."""
    return {name: value for name, value in error.get_headers() if name.lower() != "content-type"}


def _cached(response: Response, cache_control: str) -> Response:
    """The answer with its caching headers, or 304 if the client's copy is still this one.

    The ETag is strong (a hash of the exact bytes); If-None-Match compares weakly, as RFC 9110
    says. Werkzeug's make_conditional does the same and more (ranges, a Date header), at a
    tenth of a request's cost: this is what the API needs.
    """
    etag = hashlib.blake2b(response.get_data(), digest_size=16).hexdigest()
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache_control}
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    response.headers.update(headers)
    return response


def calendar_feed(first: datetime.date, days: int, notify: Notify) -> bytes:
    """An RFC 5545 calendar: an all-day event for each day from ``first`` that has a notification.

    A day's UID is its date, and its DTSTAMP that day's midnight UTC: a notification never
    changes, so neither does its event, and a refreshed feed updates a calendar instead of
    adding copies.
    """
    feed = icalendar.Calendar()
    feed.add("prodid", "-//fastfun//calendar API//EN")
    feed.add("version", "2.0")
    feed.calendar_name = FEED_NAME  # NAME (RFC 7986) and X-WR-CALNAME
    # RFC 7986 requires VALUE=DURATION here, and icalendar leaves it out unless asked.
    feed.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    for offset in range(days):
        date = first + datetime.timedelta(days=offset)
        notification = notify(date.day)
        if notification is None:
            continue
        event = icalendar.Event()
        event.add("uid", f"{date.isoformat()}@fastfun")
        event.add("dtstamp", datetime.datetime.combine(date, datetime.time(), datetime.timezone.utc))
        event.add("dtstart", date)
        event.add("dtend", date + datetime.timedelta(days=1))
        event.add("summary", str(notification))
        event.add("transp", "TRANSPARENT")  # a notification, not a meeting: the day stays free
        feed.add_component(event)
    ical: bytes = feed.to_ical()
    return ical


def create_app(notify: Notify | None = None) -> Flask:
    """The API as a WSGI application.

    ``notify`` computes a day's notification; fastfun's own by default. The benchmarks pass
    the talk's versions here to measure them through the full stack.
    """
    notify = notify or fastfun.fun_notification
    app = Flask("fastfun")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # Every route is GET (and so HEAD); an OPTIONS answer would only repeat a 405's Allow.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.before_request
    def acceptable_head() -> Any:
        # Before routing, so that a 404 or 405 is refused for a bad head too.
        environ = request.environ
        host = environ.get("HTTP_HOST", "")
        # RFC 9112: none (or an empty one), or two, is a 400. granian passes a missing Host as
        # "" and two Host lines as one value joined by a comma, which no host name holds.
        if "," in host or (not host and environ.get("SERVER_PROTOCOL") not in NO_HOST_NEEDED):
            return _error(400, f"an HTTP/1.1 request must have exactly one Host header, got {host!r}")
        if len(request.query_string) > MAX_QUERY_BYTES:
            return _error(414, f"the query string must be at most {MAX_QUERY_BYTES} bytes")
        return None

    @app.get("/api/v1/fun")
    def fun() -> Any:
        zone = _zone(request.args.get("tz"))
        day = _date("date", request.args.get("date"))
        day, cache = (day, FOREVER) if day is not None else _today(zone)
        answer = jsonify(status="success", message=notify(day.day), date=day.isoformat())
        return _cached(answer, cache)

    @app.get("/api/v1/fun/month")
    def fun_month() -> Any:
        zone = _zone(request.args.get("tz"))
        year = _number("year", request.args.get("year"), datetime.MINYEAR, datetime.MAXYEAR)
        month = _number("month", request.args.get("month"), 1, 12)
        cache = FOREVER
        if year is None or month is None:
            today, cache = _today(zone)
            year, month = year or today.year, month or today.month
        days = fastfun.month(year, month)
        if notify is not fastfun.fun_notification:  # another notification (the benchmarks')
            days = [(date, notify(date.day)) for date, _ in days]
        answer = jsonify(
            status="success",
            year=year,
            month=month,
            days=[{"date": date.isoformat(), "message": message} for date, message in days],
        )
        return _cached(answer, cache)

    @app.get("/api/v1/fun/calendar.ics")
    def fun_calendar() -> Any:
        zone = _zone(request.args.get("tz"))
        first = _date("from", request.args.get("from"))
        days = _number("days", request.args.get("days"), 1, MAX_FEED_DAYS) or DEFAULT_FEED_DAYS
        first, cache = (first, FOREVER) if first is not None else _today(zone)
        if first.toordinal() + days - 1 > datetime.date.max.toordinal():
            raise BadRequest(f"from and days must end by {datetime.date.max.isoformat()}")
        answer = Response(calendar_feed(first, days, notify), mimetype="text/calendar")
        return _cached(answer, cache)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="success", implementation=fastfun.IMPLEMENTATION)

    @app.get("/openapi.json")
    def openapi() -> Any:
        return Response(_openapi(), mimetype="application/json")

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest) -> tuple[Response, int]:
        return _error(400, str(error))

    @app.errorhandler(404)
    def not_found(error: HTTPException) -> tuple[Response, int]:
        return _error(404, f"no such endpoint: {request.path}; the API serves " + ", ".join(OPENAPI["paths"]))

    @app.errorhandler(405)
    def not_allowed(error: MethodNotAllowed) -> tuple[Response, int]:
        allow = ", ".join(sorted(error.valid_methods or ()))  # werkzeug's order is a set's
        message = f"method {request.method} is not allowed on {request.path}; use {allow}"
        return _error(405, message, {**_headers(error), "Allow": allow})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return _error(error.code or 500, error.description or error.name, _headers(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:  # pragma: no cover - a bug
        app.logger.exception("unexpected error")
        return _error(500, "internal error")

    return app
