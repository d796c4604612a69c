"""The ASF SearchAPI client pieces: query keywords, count parsing, error reports, the rate limiter."""

from __future__ import annotations

import itertools

import httpx
import pytest
import shapely

from catalog.http import RetryPolicy
from indexer.asf.client import AsfBurstQuery, AsfBursts
from indexer.asf.ratelimit import RateLimiter
from indexer.errors import UpstreamError
from indexer.harvest import Window

WINDOW = Window("2024-03-01T00:00:00.000000Z", "2024-04-01T00:00:00.000000Z")


def source(handler: httpx.MockTransport, query: AsfBurstQuery | None = None) -> AsfBursts:
    client = httpx.Client(transport=handler)
    return AsfBursts(client, query or AsfBurstQuery(), search_url="http://asf.test/services/search/param",
                     burst_url="http://extractor.test", limiter=RateLimiter(None),
                     policy=RetryPolicy(attempts=2, sleep=lambda s: None))  # fmt: skip


def test_window_keywords_count_first_then_at_most_2000_results() -> None:
    seen: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        if params["output"] == "count":
            return httpx.Response(200, text="1234\n")
        return httpx.Response(200, json={"type": "FeatureCollection", "features": []})

    area = shapely.box(5, 44, 16, 52)
    asf = source(httpx.MockTransport(answer), AsfBurstQuery(area=area, polarisation="VV"))
    assert asf.count(WINDOW) == 1234
    assert list(asf.fetch(WINDOW)) == [[]]
    count, fetch = seen
    assert count == {"dataset": "SLC-BURST", "start": WINDOW.start, "end": WINDOW.end, "output": "count",
                     "polarization": "VV", "intersectsWith": "POLYGON ((16 44, 16 52, 5 52, 5 44, 16 44))"}  # fmt: skip
    assert fetch == {**count, "output": "geojson", "maxResults": "2000"}
    assert asf.max_per_window == 2000


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(200, text="lots"), "count is not a number"),
        (
            httpx.Response(400, json={"error": {"type": "ERROR", "report": "KeyError('x')"}}),
            r"HTTP 400: KeyError\('x'\)",
        ),
        (httpx.Response(503, text="busy"), "failed after 2 attempts"),
    ],
)
def test_count_failures_are_clear_errors(response: httpx.Response, message: str) -> None:
    asf = source(httpx.MockTransport(lambda request: response))
    with pytest.raises(UpstreamError, match=message):
        asf.count(WINDOW)


def test_fetch_without_features_is_an_error() -> None:
    asf = source(httpx.MockTransport(lambda request: httpx.Response(200, json={"results": []})))
    with pytest.raises(UpstreamError, match="without a features list"):
        list(asf.fetch(WINDOW))


def test_rate_limiter_keeps_any_window_under_the_limit() -> None:
    now = [0.0]
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(3, window_s=60.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limiter.acquire()
        calls.append(now[0])
        now[0] += 1.0  # each query takes a second
    assert calls[:3] == [0.0, 1.0, 2.0] and calls[3] == 60.0 and calls[6] == 120.0
    for i, t in enumerate(calls):
        assert sum(1 for u in calls[: i + 1] if u > t - 60.0) <= 3
    assert limiter.waited == pytest.approx(sum(b - a - 1.0 for a, b in itertools.pairwise(calls)))
    unlimited = RateLimiter(None, clock=lambda: 0.0, sleep=lambda s: pytest.fail("must not wait"))
    for _ in range(1000):
        unlimited.acquire()
    with pytest.raises(ValueError):
        RateLimiter(0)
