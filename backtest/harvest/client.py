"""A small client for Deribit's public JSON-RPC-over-HTTP API (no key needed).

Every call is ``GET {base_url}/public/{method}?{params}``; Deribit answers with a JSON-RPC
envelope, ``{"jsonrpc": "2.0", "result": ...}`` or ``{"jsonrpc": "2.0", "error": {"code",
"message"}}`` (errors usually come with HTTP 400, rate limits with 429).

Failure policy:
- transient problems (HTTP 429 / 5xx, timeouts, connection errors, and the Deribit error codes
  in ``TRANSIENT_ERROR_CODES``) are retried with exponential backoff plus a little jitter;
- any other Deribit error raises ``DeribitApiError`` at once (retrying cannot fix it);
- when the network stays unreachable after the retries, ``DeribitOffline`` is raised with a
  plain one-line message meant to be shown to the user as is, saying why (host name does
  not resolve, connection refused...); when it stays silent, ``DeribitTimeout`` (a kind of
  ``DeribitOffline``) says it timed out;
- a malformed base URL raises ``DeribitConfigError`` before any request.

The base URL defaults to the production API and can be overridden with the
``GREG_DERIBIT_BASE_URL`` environment variable (tests point it at a loopback server).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

import httpx
import pandas as pd

from greg_core.errors import (
    DeribitApiError,
    DeribitConfigError,
    DeribitOffline,
    DeribitResponseError,
    DeribitTimeout,
)

DEFAULT_BASE_URL = "https://www.deribit.com/api/v2"
BASE_URL_ENV_VAR = "GREG_DERIBIT_BASE_URL"

# Deribit error codes worth retrying: rate limits, "retry", settlement / maintenance windows,
# overloaded or slow back ends. Everything else (bad instrument, bad argument...) is final.
TRANSIENT_ERROR_CODES: frozenset[int] = frozenset(
    {
        10028,  # too_many_requests
        10040,  # retry
        10041,  # settlement_in_progress
        10047,  # matching_engine_queue_full
        10066,  # too_many_concurrent_requests
        11051,  # system_maintenance
        11094,  # internal_server_error
        13028,  # temporarily_unavailable
        13888,  # timed_out
    }
)
RETRYABLE_HTTP_STATUSES: frozenset[int] = frozenset({408, 425, 429, 500, 502, 503, 504})

MAX_BACKOFF_SECONDS = 30.0
# Deribit caps candles per chart request; asking in windows of this many bars stays below it.
CHART_BARS_PER_REQUEST = 1000
# Safety stop for DVOL paging, should the server keep handing out continuations.
MAX_VOLATILITY_PAGES = 500

VOLATILITY_RESOLUTIONS = ("1", "60", "3600", "43200", "1D")
CHART_RESOLUTIONS = ("1", "3", "5", "10", "15", "30", "60", "120", "180", "360", "720", "1D")


def check_base_url(text: str, origin: str = "--base-url") -> str:
    """``text`` without a trailing slash when it is an http(s) URL with a host; else
    ``DeribitConfigError`` naming where it came from (``origin``). Checked before any
    request, so a malformed URL is reported as such, not as "offline"."""
    parsed = urlparse(text.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DeribitConfigError(
            f"{origin} {text!r} is not an http(s) URL with a host, such as {DEFAULT_BASE_URL}"
        )
    return text.strip().rstrip("/")


def resolve_base_url(base_url: str | None = None) -> str:
    """The explicit URL, else ``$GREG_DERIBIT_BASE_URL``, else production; no trailing slash.
    Raises ``DeribitConfigError`` for a malformed one (``check_base_url``)."""
    if base_url:
        return check_base_url(base_url)
    configured = os.environ.get(BASE_URL_ENV_VAR, "").strip()
    if configured:
        return check_base_url(configured, f"${BASE_URL_ENV_VAR}")
    return DEFAULT_BASE_URL


def backoff_delay(attempt: int, backoff: float, jitter: float) -> float:
    """Seconds to wait before retry number ``attempt + 1``: ``backoff * 2**attempt`` (+ jitter).

    ``jitter`` is a number in [0, 1); it adds up to 25% so that several harvesters that failed
    together do not retry in lockstep.
    """
    base = min(backoff * (2**attempt), MAX_BACKOFF_SECONDS)
    return base * (1.0 + 0.25 * jitter)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None or not math.isfinite(seconds) or seconds < 0 else seconds


class _Transient(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(
        self,
        description: str,
        *,
        offline: bool = False,
        timed_out: bool = False,
        api_code: int | None = None,
        api_message: str = "",
        wait_at_least: float = 0.0,
    ) -> None:
        super().__init__(description)
        self.offline = offline
        self.timed_out = timed_out
        self.api_code = api_code
        self.api_message = api_message
        self.wait_at_least = wait_at_least


class DeribitClient:
    """Synchronous client for the four public methods the harvester needs.

    ``transport`` (an ``httpx.BaseTransport``) and ``sleep`` / ``rng`` exist for tests; in
    normal use leave them alone. Use as a context manager or call ``close()``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = resolve_base_url(base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "greg-tui-harvester", "Accept": "application/json"},
        )

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DeribitClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------
    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """``result`` of ``public/{method}``, retrying transient failures."""
        url = f"{self.base_url}/public/{method}"
        attempts = self.max_retries + 1
        last: _Transient | None = None
        for attempt in range(attempts):
            try:
                return self._attempt(url, method, params or {})
            except _Transient as problem:
                last = problem
            if attempt + 1 < attempts:
                delay = backoff_delay(attempt, self.backoff, self._rng.random())
                self._sleep(max(delay, min(last.wait_at_least, MAX_BACKOFF_SECONDS)))
        assert last is not None
        if last.timed_out:
            raise DeribitTimeout(
                f"Deribit at {self.base_url} did not answer within {self.timeout:g}s "
                f"({attempts} attempts): timed out",
                self.base_url,
                reason=str(last),
            )
        if last.offline:
            raise DeribitOffline(
                f"cannot reach Deribit at {self.base_url}: {last}", self.base_url, reason=str(last)
            )
        code = last.api_code if last.api_code is not None else -1
        raise DeribitApiError(
            code, f"{last.api_message or last} (gave up after {attempts} attempts)", method
        )

    def _attempt(self, url: str, method: str, params: Mapping[str, Any]) -> Any:
        try:
            response = self._http.get(url, params=dict(params))
        except httpx.TimeoutException as exc:  # connect, read or write timeout
            raise _Transient(f"no answer within {self.timeout:g}s", offline=True, timed_out=True) from exc
        except httpx.UnsupportedProtocol as exc:
            raise DeribitConfigError(f"base URL {self.base_url!r}: {_plain_network_error(exc)}") from None
        except httpx.TransportError as exc:  # refused, no DNS, connection reset, proxy...
            raise _Transient(_network_reason(exc), offline=True) from exc
        return _interpret(response, method)

    # -- public methods --------------------------------------------------------------------
    def book_summary_options(self, currency: str) -> list[dict[str, Any]]:
        """``public/get_book_summary_by_currency`` with ``kind=option``: one dict per option."""
        result = self.call(
            "get_book_summary_by_currency", {"currency": currency.upper(), "kind": "option"}
        )
        if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
            raise DeribitResponseError(
                "get_book_summary_by_currency: result is not a list of objects"
            )
        return result

    def index_price(self, currency: str) -> float:
        """``public/get_index_price`` for ``{currency}_usd`` (e.g. btc_usd)."""
        index_name = f"{currency.lower()}_usd"
        result = self.call("get_index_price", {"index_name": index_name})
        try:
            return float(result["index_price"])
        except (TypeError, KeyError, ValueError):
            raise DeribitResponseError(f"get_index_price({index_name}): no index_price") from None

    def volatility_index(
        self, currency: str, start_ms: int, end_ms: int, resolution: str = "3600"
    ) -> pd.DataFrame:
        """DVOL candles from ``public/get_volatility_index_data``, all pages.

        Columns ``timestamp`` (UTC), ``open, high, low, close`` (vol points); sorted, one row
        per timestamp. Deribit pages backwards: ``result.continuation`` is the
        ``end_timestamp`` of the next (older) request, null when done.
        """
        resolution = _check_resolution(resolution, VOLATILITY_RESOLUTIONS)
        rows: list[list[float]] = []
        for page in self._volatility_pages(
            currency.upper(), int(start_ms), int(end_ms), resolution
        ):
            rows.extend(page)
        frame = pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close"], dtype="float64")
        frame = frame[(frame["ts"] >= start_ms) & (frame["ts"] <= end_ms)]
        return _candles_frame(frame["ts"], frame[["open", "high", "low", "close"]])

    def _volatility_pages(
        self, currency: str, start_ms: int, end_ms: int, resolution: str
    ) -> Iterator[list[list[float]]]:
        page_end = end_ms
        for _ in range(MAX_VOLATILITY_PAGES):
            result = self.call(
                "get_volatility_index_data",
                {
                    "currency": currency,
                    "start_timestamp": start_ms,
                    "end_timestamp": page_end,
                    "resolution": resolution,
                },
            )
            if not isinstance(result, dict) or not isinstance(result.get("data"), list):
                raise DeribitResponseError("get_volatility_index_data: result has no data list")
            yield [_candle_row(row) for row in result["data"]]
            continuation = result.get("continuation")
            # Stop on the documented null, and also when the cursor would not move back
            # (a server bug would otherwise loop forever).
            if (
                continuation is None
                or int(continuation) < start_ms
                or int(continuation) >= page_end
            ):
                return
            page_end = int(continuation)

    def chart_data(
        self, instrument: str, start_ms: int, end_ms: int, resolution: str = "1D"
    ) -> pd.DataFrame:
        """OHLCV candles from ``public/get_tradingview_chart_data``.

        Columns ``timestamp`` (UTC), ``open, high, low, close, volume`` (volume in base
        currency). Long spans are asked in windows of ``CHART_BARS_PER_REQUEST`` bars.
        """
        resolution = _check_resolution(resolution, CHART_RESOLUTIONS)
        bar_ms = 86_400_000 if resolution == "1D" else int(resolution) * 60_000
        window_ms = bar_ms * CHART_BARS_PER_REQUEST
        pieces: list[pd.DataFrame] = []
        window_start = int(start_ms)
        while window_start <= end_ms:
            window_end = min(window_start + window_ms - 1, int(end_ms))
            pieces.append(self._chart_window(instrument, window_start, window_end, resolution))
            window_start = window_end + 1
        frame = pd.concat(pieces, ignore_index=True) if pieces else _chart_result_frame({})
        return _candles_frame(frame["ts"], frame[["open", "high", "low", "close", "volume"]])

    def _chart_window(
        self, instrument: str, start_ms: int, end_ms: int, resolution: str
    ) -> pd.DataFrame:
        result = self.call(
            "get_tradingview_chart_data",
            {
                "instrument_name": instrument,
                "start_timestamp": start_ms,
                "end_timestamp": end_ms,
                "resolution": resolution,
            },
        )
        if not isinstance(result, dict):
            raise DeribitResponseError("get_tradingview_chart_data: result is not an object")
        if result.get("status") == "no_data":
            return _chart_result_frame({})
        return _chart_result_frame(result)


# -- response interpretation (pure) ----------------------------------------------------------
def _interpret(response: httpx.Response, method: str) -> Any:
    """The ``result`` of a response, or raise ``_Transient`` / ``DeribitApiError``."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = _int_or(error.get("code"), -1)
        message = str(error.get("message") or "error")
        if code in TRANSIENT_ERROR_CODES or (code == -1 and status in RETRYABLE_HTTP_STATUSES):
            raise _Transient(
                f"Deribit error {code} {message}",
                api_code=code,
                api_message=message,
                wait_at_least=_retry_after_seconds(response) or 0.0,
            )
        raise DeribitApiError(code, message, method)
    if status in RETRYABLE_HTTP_STATUSES:
        raise _Transient(
            f"HTTP {status}",
            api_code=status,
            api_message=f"HTTP {status}",
            wait_at_least=_retry_after_seconds(response) or 0.0,
        )
    if status >= 400:
        raise DeribitApiError(status, f"HTTP {status}", method)
    if not isinstance(body, dict) or "result" not in body:
        raise DeribitResponseError(f"public/{method}: HTTP {status} without a JSON-RPC result")
    return body["result"]


def _plain_network_error(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__


def _network_reason(exc: Exception) -> str:
    """Why a connection failed, in words that point at the likely cause."""
    text = _plain_network_error(exc)
    lowered = text.lower()
    if "name or service not known" in lowered or "name resolution" in lowered or "nodename nor servname" in lowered:
        return f"the host name does not resolve ({text}): offline, or a wrong base URL?"
    if "connection refused" in lowered:
        return f"connection refused ({text}): a wrong base URL or port?"
    return f"{text}: offline?"


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _check_resolution(resolution: str | int, allowed: tuple[str, ...]) -> str:
    text = str(resolution)
    if text not in allowed:
        raise ValueError(f"resolution {resolution!r} not one of {', '.join(allowed)}")
    return text


def _candle_row(row: Any) -> list[float]:
    if not isinstance(row, list | tuple) or len(row) < 5:
        raise DeribitResponseError(f"get_volatility_index_data: bad candle {row!r}")
    return [float("nan") if v is None else float(v) for v in row[:5]]


def _chart_result_frame(result: Mapping[str, Any]) -> pd.DataFrame:
    """Column arrays of a tradingview result as a frame (``ts`` in ms)."""
    columns = ("ticks", "open", "high", "low", "close", "volume")
    arrays = {name: list(result.get(name) or []) for name in columns}
    lengths = {len(values) for values in arrays.values()}
    if len(lengths) > 1:
        raise DeribitResponseError("get_tradingview_chart_data: arrays of different lengths")
    frame = pd.DataFrame(arrays, dtype="float64")
    return frame.rename(columns={"ticks": "ts"})


def _candles_frame(ts_ms: pd.Series, values: pd.DataFrame) -> pd.DataFrame:
    """Candles with a UTC ``timestamp`` column, sorted, one row per timestamp (last wins)."""
    timestamps = pd.to_datetime(ts_ms.astype("int64"), unit="ms", utc=True).dt.as_unit("ns")
    frame = pd.concat(
        [
            timestamps.rename("timestamp").reset_index(drop=True),
            values.reset_index(drop=True).astype("float64"),
        ],
        axis=1,
    )
    frame = frame.drop_duplicates("timestamp", keep="last").sort_values("timestamp")
    return frame.reset_index(drop=True)
