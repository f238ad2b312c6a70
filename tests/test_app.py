"""The calendar API in process (Flask's test client): every route, time zones, caching, the
calendar feed and every error class on both cores, every answer checked against the served
OpenAPI document (openapi_contract.py), and that document checked by schemathesis.
tests/test_server.py tries the same through a real ``fastfun serve``."""

from __future__ import annotations

import datetime
import importlib
import re
import sys
import zoneinfo
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("flask", reason="the 'api' extra is not installed")
pytest.importorskip("openapi_core", reason="openapi-core comes with the dev extra")

from openapi_contract import CheckedClient, Contract

from fastfun.app import create_app

ROUTES = ["/api/v1/fun", "/api/v1/fun/month", "/api/v1/fun/calendar.ics", "/healthz", "/openapi.json"]


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The document as the app serves it."""
    return Contract(create_app().test_client().get("/openapi.json").data)


@pytest.fixture
def client(core: ModuleType, contract: Contract) -> Any:
    """The app on ``core``; every answer it gives is checked against ``contract``."""
    app = create_app(core.fun_notification)
    app.test_client_class = CheckedClient
    return app.test_client(contract=contract)


def get(client: Any, url: str) -> tuple[int, Any]:
    response = client.get(url)
    assert response.mimetype == "application/json", url
    return response.status_code, response.get_json()


def test_the_talks_endpoint_returns_the_days_notification_and_names_the_day(client: Any) -> None:
    for date, message in (("2022-09-28", 317811), ("2022-09-15", "FizzBuzz"), ("2022-09-01", None)):
        assert get(client, f"/api/v1/fun?date={date}") == (
            200,
            {"status": "success", "message": message, "date": date},
        )


def today_in(zone: str | None) -> set[str]:
    """Today's date in a zone, read just before and just after a request (midnight may pass)."""
    tz = zoneinfo.ZoneInfo(zone) if zone else None
    return {datetime.datetime.now(tz).date().isoformat()}


@pytest.mark.parametrize("zone", [None, "Asia/Tokyo", "Pacific/Honolulu", "UTC", "America/St_Johns"])
def test_without_a_date_the_answer_is_for_today_in_tz(
    client: Any, core: ModuleType, zone: str | None
) -> None:
    before = today_in(zone)
    status, body = get(client, "/api/v1/fun" + (f"?tz={zone}" if zone else ""))
    assert status == 200 and body["date"] in before | today_in(zone)
    assert body["message"] == core.fun_notification(datetime.date.fromisoformat(body["date"]).day)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets the API's clock to an instant written in UTC."""
    import fastfun.app

    def set_to(utc: str) -> None:
        instant = datetime.datetime.fromisoformat(utc).replace(tzinfo=datetime.timezone.utc)
        monkeypatch.setattr(fastfun.app, "_clock", lambda: instant)

    return set_to


@pytest.mark.parametrize(
    "utc, zone, date, max_age",
    [
        # 21:00 in Tokyo and 02:00 in Honolulu: the same day, ending 3 h and 22 h later.
        ("2026-11-28T12:00:00", "Asia/Tokyo", "2026-11-28", 3 * 3600),
        ("2026-11-28T12:00:00", "Pacific/Honolulu", "2026-11-28", 22 * 3600),
        # 05:00 on the 29th in Tokyo, 10:00 on the 28th in Honolulu.
        ("2026-11-28T20:00:00", "Asia/Tokyo", "2026-11-29", 19 * 3600),
        ("2026-11-28T20:00:00", "Pacific/Honolulu", "2026-11-28", 14 * 3600),
        # 00:30 in New York on the night clocks go back: this day has 25 hours.
        ("2026-11-01T04:30:00", "America/New_York", "2026-11-01", 24 * 3600 + 1800),
        ("2026-11-28T23:59:59", "UTC", "2026-11-28", 1),
    ],
)
def test_today_and_its_cache_lifetime_follow_tz(
    client: Any, core: ModuleType, clock: Any, utc: str, zone: str, date: str, max_age: int
) -> None:
    clock(utc)
    response = client.get(f"/api/v1/fun?tz={zone}")
    assert response.get_json()["date"] == date
    assert response.get_json()["message"] == core.fun_notification(int(date[-2:]))
    assert response.headers["Cache-Control"] == f"public, max-age={max_age}"
    calendar = client.get(f"/api/v1/fun/calendar.ics?tz={zone}&days=1")
    assert calendar.headers["Cache-Control"] == f"public, max-age={max_age}"
    month = client.get(f"/api/v1/fun/month?tz={zone}").get_json()
    assert month["days"][0]["date"] == date[:8] + "01"


def test_the_month_endpoint_lists_every_day(client: Any) -> None:
    status, body = get(client, "/api/v1/fun/month?year=2024&month=2")
    assert status == 200 and body["status"] == "success"
    assert (body["year"], body["month"]) == (2024, 2)
    assert len(body["days"]) == 29
    assert body["days"][27] == {"date": "2024-02-28", "message": 317811}


def test_the_month_defaults_to_todays_year_and_month_in_tz(client: Any) -> None:
    today = datetime.date.today()
    assert get(client, "/api/v1/fun/month")[1]["days"][0]["date"] == f"{today:%Y-%m}-01"
    assert get(client, "/api/v1/fun/month?month=2")[1]["days"][0]["date"] == f"{today.year:04d}-02-01"
    kiritimati = datetime.datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati")).date()  # UTC+14
    body = get(client, "/api/v1/fun/month?tz=Pacific/Kiritimati")[1]
    assert (body["year"], body["month"]) in {(kiritimati.year, kiritimati.month), (today.year, today.month)}


def test_health_and_the_openapi_document(client: Any) -> None:
    assert get(client, "/healthz")[1]["status"] == "success"
    status, doc = get(client, "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1.")
    assert list(doc["paths"]) == ROUTES


def test_the_served_openapi_document_is_valid_openapi(contract: Contract) -> None:
    from openapi_spec_validator import validate

    validate(contract.document)  # openapi-core checked it on loading too


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/fun?date=2022-09-01",  # a null message
        "/api/v1/fun?date=2022-09-03",  # Fizz
        "/api/v1/fun?date=2022-09-28",  # F(28)
        "/api/v1/fun/month?year=2022&month=9",  # every kind in one answer
    ],
)
def test_every_kind_of_notification_fits_the_served_document(client: Any, url: str) -> None:
    # The client checks every answer; this names the kinds, null among them.
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("/api/v1/fun?date=2022-02-30", "real calendar date"),
        ("/api/v1/fun?date=28", "YYYY-MM-DD"),
        ("/api/v1/fun?date=99999-01-01", "YYYY-MM-DD"),
        ("/api/v1/fun?date=2022-9-28", "YYYY-MM-DD"),
        ("/api/v1/fun?date=2022092899", "YYYY-MM-DD"),  # fromisoformat reads 20220928 (3.11+)
        ("/api/v1/fun?date=2022-W39-3", "YYYY-MM-DD"),
        ("/api/v1/fun?date=2022-09-28T00", "YYYY-MM-DD"),
        ("/api/v1/fun?date=%202022-09-28", "YYYY-MM-DD"),
        ("/api/v1/fun/calendar.ics?from=2022092899", "from must be a real calendar date written YYYY-MM-DD"),
        ("/api/v1/fun/month?year=2022&month=13", "month must be a whole number in 1..12"),
        ("/api/v1/fun/month?year=2022&month=0", "1..12"),
        ("/api/v1/fun/month?year=0&month=1", "year must be a whole number in 1..9999"),
        ("/api/v1/fun/month?year=1e9&month=1", "year must be"),
        ("/api/v1/fun/month?year=" + "9" * 900 + "&month=1", "year must be"),
        ("/api/v1/fun/month?year=２０２２&month=1", "year must be"),  # noqa: RUF001 - fullwidth on purpose
        ("/api/v1/fun?tz=Mars/Olympus_Mons", "tz must be an IANA time zone name such as Asia/Tokyo"),
        ("/api/v1/fun?tz=../../etc/passwd", "tz must be"),
        ("/api/v1/fun?tz=Asia", "tz must be"),
        ("/api/v1/fun?tz=asia/tokyo", "tz must be"),
        ("/api/v1/fun/month?tz=", "tz must be"),
        ("/api/v1/fun?date=2022-09-28&tz=Nowhere", "tz must be"),
        ("/api/v1/fun/calendar.ics?from=2022-13-01", "from must be a real calendar date"),
        ("/api/v1/fun/calendar.ics?days=0", "days must be a whole number in 1..366"),
        ("/api/v1/fun/calendar.ics?days=367", "days must be a whole number in 1..366"),
        ("/api/v1/fun/calendar.ics?from=9999-12-01&days=32", "from and days must end by 9999-12-31"),
    ],
)
def test_a_bad_parameter_is_a_json_400_saying_what_is_accepted(client: Any, url: str, fragment: str) -> None:
    status, body = get(client, url)
    assert status == 400
    assert body["status"] == "error" and fragment in body["error"]


def test_an_oversized_query_is_a_json_414(client: Any) -> None:
    status, body = get(client, "/api/v1/fun?date=2022-09-28&pad=" + "x" * 1024)
    assert status == 414 and "at most 1024 bytes" in body["error"]
    assert get(client, "/api/v1/fun?date=2022-09-28&pad=" + "x" * 990)[0] == 200


DATE_TAKERS = [("/api/v1/fun", "date"), ("/api/v1/fun/calendar.ics", "from")]


def date_shaped(text: str) -> bool:
    """The rule, in other words than the app's: a date is what date.isoformat writes."""
    try:
        return datetime.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


@pytest.mark.parametrize("route, name", DATE_TAKERS)
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=14),
        # Near misses: other ISO 8601 forms, fullwidth digits, a suffix.
        st.from_regex(r"[0-9０-９]{4}-?[0-9]{1,2}-?[0-9]{1,2}[0-9TZW: .+-]{0,3}", fullmatch=True),  # noqa: RUF001
        st.dates().map(datetime.date.isoformat),
    )
)
def test_only_yyyy_mm_dd_is_a_date_and_nothing_else_is_cached(
    client: Any, route: str, name: str, text: str
) -> None:
    response = client.get(route, query_string={name: text, "days": "1"})
    if date_shaped(text):
        assert response.status_code == 200, text
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    else:
        assert response.status_code == 400, text
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
        assert "YYYY-MM-DD" in response.get_json()["error"]


@pytest.fixture
def pure_datetime(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The app on datetime without its C accelerator, as PyPy runs it."""
    import fastfun.app

    monkeypatch.setitem(sys.modules, "_datetime", None)
    monkeypatch.delitem(sys.modules, "datetime")
    pure = importlib.import_module("datetime")
    assert pure.date is not datetime.date
    monkeypatch.setattr(fastfun.app, "datetime", pure)
    return pure


@pytest.mark.parametrize(
    "text",
    ["+022-09-28", " 022-09-28", "2_22-09-28", "２０２２-09-28", "2022-0９-28", "-022-09-28"],  # noqa: RUF001
)
def test_a_date_is_ascii_digits_where_a_pure_python_fromisoformat_takes_more(
    client: Any, pure_datetime: ModuleType, text: str
) -> None:
    # This datetime's fromisoformat reads each field with int(): "+022-09-28" is 0022-09-28.
    # Only /api/v1/fun: icalendar refuses another datetime's dates, and the feed's from is
    # read by the same function.
    assert pure_datetime.date.fromisoformat("+022-09-28") == pure_datetime.date(22, 9, 28)
    response = client.get("/api/v1/fun", query_string={"date": text})
    assert response.status_code == 400 and "YYYY-MM-DD" in response.get_json()["error"]
    assert client.get("/api/v1/fun", query_string={"date": "2022-09-28"}).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_every_405_lists_the_allowed_methods(client: Any, route: str, method: str) -> None:
    response = client.open(route, method=method)
    assert response.status_code == 405 and response.get_json()["status"] == "error"
    assert response.headers["Allow"] == "GET, HEAD"  # RFC 9110: a 405 must say what is allowed
    assert "use GET, HEAD" in response.get_json()["error"]


def test_unknown_routes_are_json_too(client: Any) -> None:
    status, body = get(client, "/api/v2/fun")
    assert status == 404 and "/api/v1/fun" in body["error"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("host", ["", "a,b", "a, b"])  # none (granian's ""), two (granian joins them)
def test_an_http_1_1_request_without_exactly_one_host_is_a_400(client: Any, route: str, host: str) -> None:
    response = client.get(route, headers={"Host": host})
    assert response.status_code == 400 and "exactly one Host header" in response.get_json()["error"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "xn--bcher-kva.example"])
def test_one_host_or_an_http_1_0_request_without_one_is_served(client: Any, host: str) -> None:
    assert client.get("/healthz", headers={"Host": host}).status_code == 200
    for protocol in ("HTTP/1.0", "HTTP/1"):  # granian writes HTTP/1.0 as "HTTP/1"
        response = client.get("/healthz", environ_overrides={"SERVER_PROTOCOL": protocol, "HTTP_HOST": ""})
        assert response.status_code == 200


def test_the_api_passes_schemathesis(core: ModuleType, contract: Contract) -> None:
    schemathesis = pytest.importorskip("schemathesis")

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
                contract.check_schemathesis(case.call_and_validate())
            except Exception as error:  # noqa: BLE001 - collected and reported below
                failures.append(f"{case.method} {case.formatted_path} {case.query}: {error}")

        check()
    assert failures == []
    # Every API operation was exercised (schemathesis leaves out the schema's own endpoint).
    assert {"/api/v1/fun", "/api/v1/fun/month", "/api/v1/fun/calendar.ics", "/healthz"} <= set(calls)
    assert len(calls) > 60


DATED = [
    "/api/v1/fun?date=2022-09-28",
    "/api/v1/fun/month?year=2022&month=9",
    "/api/v1/fun/calendar.ics?from=2022-09-01&days=30",
]


@pytest.mark.parametrize("url", DATED)
def test_a_dated_answer_is_immutable_with_a_strong_etag(client: Any, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[^"]+"', etag), "a strong ETag is quoted, without W/"
    again = client.get(url)
    assert again.headers["ETag"] == etag and again.data == first.data
    for matching in (etag, f'"other", {etag}', "*", "W/" + etag):  # If-None-Match compares weakly
        not_modified = client.get(url, headers={"If-None-Match": matching})
        assert not_modified.status_code == 304, matching
        assert not_modified.data == b"" and not_modified.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_each_answer_has_its_own_etag_and_an_undated_one_is_not_immutable(client: Any) -> None:
    etags = {client.get(url).headers["ETag"] for url in [*DATED, "/api/v1/fun?date=2022-09-27"]}
    assert len(etags) == 4
    for url in ("/api/v1/fun", "/api/v1/fun/month?month=9", "/api/v1/fun/calendar.ics"):
        response = client.get(url)
        max_age = int(re.fullmatch(r"public, max-age=(\d+)", response.headers["Cache-Control"])[1])  # type: ignore[index]
        assert 0 < max_age <= 25 * 3600 and "ETag" in response.headers


@pytest.mark.parametrize(
    "url, method, headers, status",
    [
        ("/api/v1/fun?date=2022-02-30", "GET", {}, 400),
        ("/healthz", "GET", {"Host": ""}, 400),
        ("/api/v2/fun", "GET", {}, 404),
        ("/api/v1/fun", "POST", {}, 405),
        ("/api/v1/fun?pad=" + "x" * 1100, "GET", {}, 414),
    ],
)
def test_no_error_is_cached(client: Any, url: str, method: str, headers: dict[str, str], status: int) -> None:
    # RFC 9111 lets a cache keep a 404, 405 or 414 unless told otherwise.
    response = client.open(url, method=method, headers=headers)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def read_feed(data: bytes) -> list[tuple[str, str, datetime.date, datetime.date, str]]:
    """The events of a feed as read by vobject, a parser other than the one that wrote it."""
    vobject = pytest.importorskip("vobject", reason="vobject comes with the dev extra")
    calendar = vobject.readOne(data.decode())
    assert calendar.version.value == "2.0" and calendar.prodid.value
    return [
        (event.uid.value, event.summary.value, event.dtstart.value, event.dtend.value, event.dtstamp.value)
        for event in calendar.vevent_list
    ]


def test_the_calendar_feed_has_an_all_day_event_per_day_with_a_notification(
    client: Any, core: ModuleType
) -> None:
    response = client.get("/api/v1/fun/calendar.ics?from=2024-02-20&days=12")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = read_feed(response.data)
    first = datetime.date(2024, 2, 20)
    expected = []
    for offset in range(12):
        day = first + datetime.timedelta(days=offset)
        if core.fun_notification(day.day) is not None:
            expected.append((f"{day}@fastfun", str(core.fun_notification(day.day)), day))
    assert [(uid, summary, start) for uid, summary, start, _, _ in events] == expected
    assert ("2024-02-28@fastfun", "317811", datetime.date(2024, 2, 28)) in expected  # F(28), across Feb 29
    for _, _, start, end, stamp in events:
        assert type(start) is datetime.date and end == start + datetime.timedelta(days=1)  # all day
        assert stamp == datetime.datetime.combine(start, datetime.time(), datetime.timezone.utc)


# What a calendar app needs of the feed beyond the events, as each parser reads it: the name
# (NAME, RFC 7986, and X-WR-CALNAME), how often to refresh (REFRESH-INTERVAL, which RFC 7986
# requires to say VALUE=DURATION, and X-PUBLISHED-TTL), and every event free time (TRANSP).
Feed = tuple[str, str, str, str, list[tuple[object, object, object]]]


def by_vobject(data: bytes) -> Feed:
    import vobject

    calendar = vobject.readOne(data.decode())
    refresh = calendar.contents["refresh-interval"][0]
    return (
        calendar.contents["name"][0].value,
        calendar.contents["x-wr-calname"][0].value,
        f"{refresh.params['VALUE'][0]}:{refresh.value}",
        calendar.contents["x-published-ttl"][0].value,
        [(e.dtstart.value, e.summary.value, e.transp.value) for e in calendar.vevent_list],
    )


def by_icalendar(data: bytes) -> Feed:
    import icalendar

    calendar: Any = icalendar.Calendar.from_ical(data)
    refresh = calendar["REFRESH-INTERVAL"]
    return (
        calendar["NAME"],
        calendar["X-WR-CALNAME"],
        f"{refresh.params['VALUE']}:{refresh.to_ical().decode()}",
        calendar["X-PUBLISHED-TTL"].to_ical().decode(),
        [(e.start, e["SUMMARY"], e["TRANSP"]) for e in calendar.events],
    )


def by_ics(data: bytes) -> Feed:
    import ics

    calendar = ics.Calendar(data.decode())
    extra = {line.name: line for line in calendar.extra}
    refresh = extra["REFRESH-INTERVAL"]
    events = sorted(calendar.events, key=lambda event: event.begin)
    return (
        extra["NAME"].value,
        extra["X-WR-CALNAME"].value,
        f"{refresh.params['VALUE'][0]}:{refresh.value}",
        extra["X-PUBLISHED-TTL"].value,
        [(e.begin.date(), e.name, "TRANSPARENT" if e.transparent else "OPAQUE") for e in events if e.all_day],
    )


def by_ical(data: bytes) -> Feed:
    import icalendar

    # ical needs Python 3.11+ (the dev extra leaves it out below that): only this parser skips.
    pytest.importorskip("ical", reason="ical (the dev extra) needs Python 3.11+")
    from ical.calendar_stream import IcsCalendarStream

    calendar = IcsCalendarStream.calendar_from_ics(data.decode())
    extra = {line.name: line.value for line in calendar.extras}
    (name,) = calendar.name
    assert calendar.refresh_interval is not None
    refresh: Any = icalendar.vDuration(calendar.refresh_interval)  # ical keeps no VALUE parameter
    return (
        name,
        extra["x-wr-calname"],
        "DURATION:" + refresh.to_ical().decode(),
        extra["x-published-ttl"],
        [(e.dtstart, e.summary, e.transparency) for e in calendar.events],
    )


@pytest.mark.parametrize("parser", [by_vobject, by_icalendar, by_ics, by_ical])
def test_the_feed_names_itself_says_when_to_refresh_and_leaves_every_day_free(
    client: Any, core: ModuleType, parser: Any
) -> None:
    days = [datetime.date(2022, 9, 1) + datetime.timedelta(days=n) for n in range(30)]
    name = "fastfun: the daily fun notification"
    notes = [(d, core.fun_notification(d.day)) for d in days]
    expected = [(d, str(note), "TRANSPARENT") for d, note in notes if note is not None]
    feed = client.get("/api/v1/fun/calendar.ics?from=2022-09-01&days=30").data
    assert parser(feed) == (name, name, "DURATION:P1D", "P1D", expected)


def test_overlapping_feeds_give_a_day_the_same_event(client: Any) -> None:
    # A calendar app refreshing a subscription matches events by UID: the same day, the same
    # event, whichever range it came in.
    one = {uid: rest for uid, *rest in read_feed(client.get("/api/v1/fun/calendar.ics?from=2024-03-01").data)}
    two = {uid: rest for uid, *rest in read_feed(client.get("/api/v1/fun/calendar.ics?from=2024-03-15").data)}
    shared = one.keys() & two.keys()
    assert len(shared) > 5 and all(one[uid] == two[uid] for uid in shared)
    assert len(one) == len([d for d in range(1, 32) if d % 3 == 0 or d % 5 == 0 or d % 7 == 0])


def test_the_feed_defaults_to_31_days_from_today_and_takes_up_to_366(client: Any, clock: Any) -> None:
    clock("2026-12-31T23:30:00")
    events = read_feed(client.get("/api/v1/fun/calendar.ics?tz=Asia/Tokyo").data)
    assert events[0][2] == datetime.date(2027, 1, 3) and events[-1][2] <= datetime.date(2027, 1, 31)
    year = read_feed(client.get("/api/v1/fun/calendar.ics?from=2028-01-01&days=366").data)
    days = [datetime.date(2028, 1, 1) + datetime.timedelta(days=n) for n in range(366)]  # a leap year
    assert [event[2] for event in year] == [
        d for d in days if d.day % 3 == 0 or d.day % 5 == 0 or d.day % 7 == 0
    ]
