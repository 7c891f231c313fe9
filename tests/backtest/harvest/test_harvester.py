"""Deribit harvester: client retries, snapshot layout and schema, history merges, CLI.

No test touches the internet: a loopback HTTP server (127.0.0.1, free port) answers the four
public methods with Deribit-shaped JSON-RPC envelopes and counts the requests.
"""

from __future__ import annotations

import functools
import json
import math
import random
import socket
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow.parquet as pq
import pytest

from backtest.harvest import harvester
from backtest.harvest.client import (
    DEFAULT_BASE_URL,
    DeribitApiError,
    DeribitClient,
    DeribitOffline,
    resolve_base_url,
)
from backtest.harvest.harvester import (
    SNAPSHOT_COLUMNS,
    atomic_write,
    harvest_loop,
    harvest_once,
    parse_instrument_name,
    snapshot_frame,
    unparseable_instruments,
)
from greg_tui import harvest_cli

# The harvest time of the user's real file BTC_2025-12-11_0004.parquet.
NOW = pd.Timestamp("2025-12-11 00:04:26.883276", tz="UTC")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SPOT = {"BTC": 92_480.0, "ETH": 3_320.0}


# -- a fake Deribit --------------------------------------------------------------------------
def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _option_price_in_coin(
    spot: float, strike: float, years: float, vol: float, call: bool
) -> float:
    """Black-Scholes (zero rates) premium in coin units, as Deribit quotes inverse options."""
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    usd = (
        (spot * _norm_cdf(d1) - strike * _norm_cdf(d2))
        if call
        else (strike * _norm_cdf(-d2) - spot * _norm_cdf(-d1))
    )
    return max(usd / spot, 0.0001)


def book_summary(currency: str, now: pd.Timestamp) -> list[dict[str, Any]]:
    """3 expiries x 5 strikes x C/P, fields as in Deribit's get_book_summary_by_currency."""
    spot = SPOT[currency]
    expiries = [("12DEC25", "2025-12-12"), ("26DEC25", "2025-12-26"), ("27MAR26", "2026-03-27")]
    step = 5_000.0 if currency == "BTC" else 200.0
    rows = []
    for code, iso in expiries:
        expiry = pd.Timestamp(f"{iso} 08:00", tz="UTC")
        years = (expiry - now).total_seconds() / (365 * 86400)
        forward = spot * (1 + 0.05 * years)
        for k in range(-2, 3):
            strike = round(spot / step) * step + k * step
            for option_type in ("C", "P"):
                vol = 0.45 + 0.02 * abs(k) + (0.01 if option_type == "P" else 0.0)
                mark = _option_price_in_coin(forward, strike, years, vol, option_type == "C")
                no_bid = k == 2 and option_type == "C"  # deep OTM: empty bid side
                rows.append(
                    {
                        "volume_usd": 1234.5,
                        "volume": 12.3 + k,
                        "quote_currency": currency,
                        "price_change": -2.5,
                        "open_interest": 380.6 + 10 * k,
                        "mid_price": None if no_bid else round(mark, 4),
                        "mark_price": round(mark, 6),
                        "mark_iv": round(vol * 100, 2),
                        "low": None,
                        "last": round(mark, 4),
                        "interest_rate": 0.0,
                        "instrument_name": f"{currency}-{code}-{int(strike)}-{option_type}",
                        "high": None,
                        "estimated_delivery_price": spot,
                        "creation_timestamp": int(now.value // 1_000_000),
                        "bid_price": None if no_bid else round(mark * 0.97, 4),
                        "base_currency": currency,
                        "ask_price": round(mark * 1.03, 4),
                        "underlying_index": f"{currency}-{code}",
                        "underlying_price": round(forward, 2),
                    }
                )
    # A combo-like name that is not an option name: must be skipped and counted.
    rows.append(dict(rows[0], instrument_name=f"{currency}-CS-27MAR26-100000_110000"))
    return rows


def _aligned(start_ms: int, end_ms: int, step_ms: int) -> list[int]:
    first = -(-start_ms // step_ms) * step_ms
    return list(range(first, end_ms + 1, step_ms))


class FakeDeribit:
    """Answers like Deribit's public API; ``fail_next`` queues error answers per method."""

    volatility_page_size = 500

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.queued: dict[str, deque[tuple[int, Any]]] = defaultdict(deque)
        self.value_shift = 0.0  # bump between runs to see "new values win"
        self.base_url = ""
        self.lock = threading.Lock()

    def fail_next(self, method: str, *answers: tuple[int, Any]) -> None:
        self.queued[method].extend(answers)

    @staticmethod
    def error(code: int, message: str) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "error": {"code": code, "message": message},
            "usIn": 1,
            "usOut": 2,
            "usDiff": 1,
            "testnet": False,
        }

    @staticmethod
    def ok(result: Any) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "result": result,
            "usIn": 1,
            "usOut": 2,
            "usDiff": 1,
            "testnet": False,
        }

    def respond(self, method: str, params: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.calls[method] += 1
            self.requests.append((method, params))
            if self.queued[method]:
                return self.queued[method].popleft()
        currency = params.get("currency", "").upper()
        if method == "get_book_summary_by_currency":
            if currency not in SPOT or params.get("kind") != "option":
                return 400, self.error(10009, "invalid_argument")
            return 200, self.ok(book_summary(currency, NOW))
        if method == "get_index_price":
            name = params.get("index_name", "")
            if name not in ("btc_usd", "eth_usd"):
                return 400, self.error(10009, "invalid_argument")
            price = SPOT[name[:3].upper()]
            return 200, self.ok({"index_price": price, "estimated_delivery_price": price})
        if method == "get_tradingview_chart_data":
            return 200, self.ok(self._chart(params))
        if method == "get_volatility_index_data":
            return 200, self.ok(self._volatility(params))
        return 400, self.error(-32601, "Method not found")

    def _chart(self, params: dict[str, str]) -> dict[str, Any]:
        assert params["resolution"] == "1D"
        ticks = _aligned(int(params["start_timestamp"]), int(params["end_timestamp"]), DAY_MS)
        if not ticks:
            return {
                "status": "no_data",
                "ticks": [],
                "open": [],
                "high": [],
                "low": [],
                "close": [],
                "volume": [],
                "cost": [],
            }
        close = [90_000 + 2_000 * math.sin(t / DAY_MS / 7) + self.value_shift for t in ticks]
        return {
            "volume": [1_500.0 + (t // DAY_MS) % 100 for t in ticks],
            "ticks": ticks,
            "status": "ok",
            "open": [c - 150 for c in close],
            "low": [c - 900 for c in close],
            "high": [c + 800 for c in close],
            "cost": [c * 1_500 for c in close],
            "close": close,
        }

    def _volatility(self, params: dict[str, str]) -> dict[str, Any]:
        step = DAY_MS if params["resolution"] == "1D" else int(params["resolution"]) * 1000
        points = _aligned(int(params["start_timestamp"]), int(params["end_timestamp"]), step)
        page = points[-self.volatility_page_size :]
        # Newest first page; the continuation (the next end_timestamp) is the oldest candle of
        # this page, so consecutive pages overlap by one candle.
        continuation = page[0] if len(points) > len(page) else None
        data = []
        for t in page:
            level = 45 + 8 * math.sin(t / DAY_MS / 11) + self.value_shift
            data.append([t, level - 0.3, level + 0.6, level - 0.7, round(level, 2)])
        return {"data": data, "continuation": continuation}


@pytest.fixture()
def fake() -> Iterator[FakeDeribit]:
    deribit = FakeDeribit()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            url = urlsplit(self.path)
            method = url.path.removeprefix("/api/v2/public/")
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, body = deribit.respond(method, params)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    deribit.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield deribit
    server.shutdown()
    server.server_close()


@pytest.fixture()
def sleeps() -> list[float]:
    return []


@pytest.fixture()
def client(fake: FakeDeribit, sleeps: list[float]) -> Iterator[DeribitClient]:
    with DeribitClient(
        base_url=fake.base_url, timeout=2.0, sleep=sleeps.append, rng=random.Random(7)
    ) as deribit:
        yield deribit


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2"


def files_under(folder: Path) -> list[Path]:
    """Every file but the harvester's lock (which only says who harvests)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".greg-harvest.lock")


# -- instrument names ------------------------------------------------------------------------
def test_parse_instrument_name_handles_deribit_spellings() -> None:
    btc = parse_instrument_name("BTC-27MAR26-300000-C")
    assert btc is not None
    assert (btc.underlying, btc.expiry.isoformat(), btc.strike, btc.option_type) == (
        "BTC",
        "2026-03-27",
        300_000.0,
        "C",
    )
    assert btc.expiry_timestamp == 1774598400.0  # as in the user's real file (08:00 UTC)
    one_digit_day = parse_instrument_name("BTC-2JAN26-91000-P")
    assert one_digit_day is not None and one_digit_day.expiry.isoformat() == "2026-01-02"
    decimal_strike = parse_instrument_name("XRP_USDC-30AUG24-0d625-C")
    assert decimal_strike is not None and decimal_strike.strike == 0.625
    for bad in ("BTC-PERPETUAL", "BTC-27MAR26", "BTC-31FEB26-1000-C", "BTC-27XYZ26-1-C", None, 5):
        assert parse_instrument_name(bad) is None


# -- snapshots -------------------------------------------------------------------------------
def test_snapshot_written_in_user_layout_and_readable(
    client: DeribitClient, tmp_path: Path
) -> None:
    report = harvest_once(client, ["BTC"], tmp_path, now=NOW, with_history=False)

    assert report.ok, report.errors
    result = report.underlyings[0]
    expected = tmp_path / "live_deribit/BTC/2025/12/11/BTC_2025-12-11_000426.parquet"
    assert result.snapshot_path == expected and expected.is_file()
    assert (result.instruments, result.skipped_rows, result.index_price) == (30, 1, SPOT["BTC"])

    frame = pd.read_parquet(expected)
    assert tuple(frame.columns) == SNAPSHOT_COLUMNS
    assert len(frame) == 30 and frame["instrument_name"].is_unique
    assert (frame["harvest_time"] == NOW).all()
    assert set(frame["expiry"]) == {"2025-12-12", "2025-12-26", "2026-03-27"}
    march = frame[frame["instrument_name"].str.contains("27MAR26")]
    assert (march["expiry_timestamp"] == 1774598400.0).all()
    assert set(frame["option_type"]) == {"C", "P"} and set(frame["underlying"]) == {"BTC"}
    no_bid = frame[frame["best_bid_price"].isna()]
    assert len(no_bid) == 3 and no_bid["best_ask_price"].notna().all()
    assert frame["mark_iv"].between(40, 60).all()  # vol points, as Deribit sends them
    no_data = ["bid_iv", "ask_iv", "greek_delta", "greek_gamma", "greek_theta", "greek_vega"]
    assert frame[no_data].isna().all().all()


def test_snapshot_schema_matches_the_users_real_files(
    client: DeribitClient, tmp_path: Path, real_dir: Path
) -> None:
    real_snapshot = real_dir / "live_deribit/BTC/2025/12/11/BTC_2025-12-11_0004.parquet"
    real_hourly = real_dir / "volatility_history/btc_volatility_history.parquet"
    harvest_once(client, ["BTC"], tmp_path, now=NOW)

    ours = tmp_path / "live_deribit/BTC/2025/12/11/BTC_2025-12-11_000426.parquet"
    assert pq.read_schema(ours).remove_metadata() == pq.read_schema(real_snapshot).remove_metadata()
    pd.testing.assert_series_equal(
        pd.read_parquet(ours).dtypes, pd.read_parquet(real_snapshot).dtypes
    )
    ours_hourly = tmp_path / "volatility_history/btc_volatility_history.parquet"
    pd.testing.assert_series_equal(
        pd.read_parquet(ours_hourly).dtypes, pd.read_parquet(real_hourly).dtypes
    )
    for name in ("btc_usd_daily_ohlcv.csv", "btc_dvol_daily.csv"):
        real_header = (real_dir / name).read_text().splitlines()[0]
        assert (tmp_path / "history" / name).read_text().splitlines()[0] == real_header


def test_snapshot_frame_of_nothing_has_the_schema() -> None:
    frame = snapshot_frame([{"instrument_name": "BTC-PERPETUAL"}], NOW)
    assert frame.empty and tuple(frame.columns) == SNAPSHOT_COLUMNS
    assert str(frame["harvest_time"].dtype) == "datetime64[us, UTC]"
    assert unparseable_instruments([{"instrument_name": "BTC-PERPETUAL"}]) == ["BTC-PERPETUAL"]


# -- history ---------------------------------------------------------------------------------
def _params(fake: FakeDeribit, method: str, **match: str) -> list[dict[str, str]]:
    return [
        p for m, p in fake.requests if m == method and all(p.get(k) == v for k, v in match.items())
    ]


def test_history_backfills_then_appends_without_duplicates(
    fake: FakeDeribit, client: DeribitClient, tmp_path: Path
) -> None:
    first = harvest_once(client, ["BTC"], tmp_path, now=NOW).underlyings[0].history
    assert first is not None
    assert first.daily_ohlcv_rows_added == 401  # 400 days back to today, both ends included
    assert first.daily_dvol_rows_added == 401
    assert first.hourly_dvol_rows_added == 30 * 24 + 1
    chart = _params(fake, "get_tradingview_chart_data")
    assert (
        int(chart[0]["start_timestamp"]) == (NOW - pd.Timedelta(days=400)).floor("D").value // 10**6
    )
    # The hourly DVOL backfill needed two pages; the second ends where the first began.
    hourly = _params(fake, "get_volatility_index_data", resolution="3600")
    assert len(hourly) == 2 and int(hourly[1]["end_timestamp"]) < int(hourly[0]["end_timestamp"])

    fake.requests.clear()
    fake.value_shift = 1.0  # the second run sees revised numbers for the overlapping bars
    later = NOW + pd.Timedelta(days=2)
    second = harvest_once(client, ["BTC"], tmp_path, now=later).underlyings[0].history
    assert second is not None
    assert (second.daily_ohlcv_rows_added, second.daily_dvol_rows_added) == (2, 2)
    assert second.hourly_dvol_rows_added == 48
    # Incremental: fetched from the last stored day / hour, not another 400 days.
    chart = _params(fake, "get_tradingview_chart_data")
    assert int(chart[0]["start_timestamp"]) == NOW.floor("D").value // 10**6

    ohlcv = pd.read_csv(tmp_path / "history/btc_usd_daily_ohlcv.csv")
    assert list(ohlcv.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert ohlcv["date"].is_unique and ohlcv["date"].is_monotonic_increasing
    assert len(ohlcv) == 403 and ohlcv["date"].iloc[-1] == "2025-12-13"
    by_date = ohlcv.set_index("date")["close"]
    day_ms = pd.Timestamp("2025-12-11", tz="UTC").value // 10**6
    assert by_date["2025-12-11"] == pytest.approx(
        90_000 + 2_000 * math.sin(day_ms / DAY_MS / 7) + 1.0
    )

    dvol = pd.read_csv(tmp_path / "history/btc_dvol_daily.csv")
    assert list(dvol.columns) == ["date", "dvol_close"]
    assert dvol["date"].is_unique and len(dvol) == 403

    hourly_frame = pd.read_parquet(tmp_path / "volatility_history/btc_volatility_history.parquet")
    assert list(hourly_frame.columns) == [
        "timestamp",
        "iv_30d",
        "rv_30d",
        "vrp_30d",
        "currency",
        "harvest_time",
    ]
    assert hourly_frame["timestamp"].is_unique and hourly_frame["timestamp"].is_monotonic_increasing
    assert len(hourly_frame) == 30 * 24 + 1 + 48
    assert hourly_frame[["rv_30d", "vrp_30d"]].isna().all().all()
    assert set(hourly_frame["harvest_time"]) == {NOW, later}  # refreshed rows carry the new time


def test_merge_keeps_stored_values_the_new_rows_lack(tmp_path: Path) -> None:
    path = tmp_path / "history" / "btc_dvol_daily.csv"
    path.parent.mkdir()
    path.write_text("date,dvol_close\n2025-01-01,50.0\n2025-01-02,51.0\n")
    new = pd.DataFrame(
        {"dvol_close": [float("nan"), 60.0]},
        index=pd.Index(["2025-01-02", "2025-01-03"], name="date"),
    )
    assert harvester.merge_daily_csv(path, new) == 1
    assert (
        path.read_text() == "date,dvol_close\n2025-01-01,50.0\n2025-01-02,51.0\n2025-01-03,60.0\n"
    )


def test_unreadable_history_file_is_left_untouched(client: DeribitClient, tmp_path: Path) -> None:
    broken = tmp_path / "history" / "btc_usd_daily_ohlcv.csv"
    broken.parent.mkdir()
    broken.write_text("when,price\nyesterday,1\n")
    report = harvest_once(client, ["BTC"], tmp_path, now=NOW)
    assert "missing column 'date'" in report.errors["BTC"]
    assert report.underlyings[0].snapshot_path is not None  # the snapshot still got written
    assert broken.read_text() == "when,price\nyesterday,1\n"


# -- client: retries and errors --------------------------------------------------------------
def test_retry_on_429_then_success(
    fake: FakeDeribit, client: DeribitClient, sleeps: list[float]
) -> None:
    fake.fail_next(
        "get_index_price",
        (429, FakeDeribit.error(10028, "too_many_requests")),
        (429, b"Too Many Requests"),
    )
    assert client.index_price("BTC") == SPOT["BTC"]
    assert fake.calls["get_index_price"] == 3
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] < sleeps[1] <= 1.25  # 0.5s, 1s (+ <=25% jitter)


def test_retry_on_5xx_then_success(
    fake: FakeDeribit, client: DeribitClient, sleeps: list[float]
) -> None:
    fake.fail_next("get_book_summary_by_currency", (503, b"<html>maintenance</html>"), (502, b""))
    assert len(client.book_summary_options("ETH")) == 31
    assert fake.calls["get_book_summary_by_currency"] == 3 and len(sleeps) == 2


def test_transient_deribit_error_code_is_retried(fake: FakeDeribit, client: DeribitClient) -> None:
    fake.fail_next("get_index_price", (400, FakeDeribit.error(10041, "settlement_in_progress")))
    assert client.index_price("ETH") == SPOT["ETH"]
    assert fake.calls["get_index_price"] == 2


def test_non_transient_deribit_error_raises_at_once(
    fake: FakeDeribit, client: DeribitClient, sleeps: list[float]
) -> None:
    with pytest.raises(DeribitApiError) as raised:
        client.book_summary_options("XRP")
    assert (raised.value.code, raised.value.message, raised.value.method) == (
        10009,
        "invalid_argument",
        "get_book_summary_by_currency",
    )
    assert fake.calls["get_book_summary_by_currency"] == 1 and sleeps == []


def test_transient_error_that_never_clears_gives_up(
    fake: FakeDeribit, client: DeribitClient
) -> None:
    fake.fail_next("get_index_price", *[(429, FakeDeribit.error(10028, "too_many_requests"))] * 5)
    with pytest.raises(DeribitApiError) as raised:
        client.index_price("BTC")
    assert raised.value.code == 10028 and "gave up after 5 attempts" in raised.value.message
    assert fake.calls["get_index_price"] == 5


def test_volatility_pages_are_followed_and_deduplicated(
    fake: FakeDeribit, client: DeribitClient
) -> None:
    fake.volatility_page_size = 100
    end = NOW.value // 10**6
    frame = client.volatility_index("BTC", end - 10 * DAY_MS, end, resolution="3600")
    assert fake.calls["get_volatility_index_data"] == 3  # 240 hours in pages of 100, overlapping
    assert len(frame) == 240 and frame["timestamp"].is_unique
    assert frame["timestamp"].is_monotonic_increasing
    assert list(frame.columns) == ["timestamp", "open", "high", "low", "close"]


def test_chart_without_data_is_an_empty_frame(client: DeribitClient) -> None:
    start = NOW.value // 10**6 + 1  # after today's midnight: no daily bar in range
    frame = client.chart_data("BTC-PERPETUAL", start, start + 1000, resolution="1D")
    assert frame.empty and list(frame.columns) == [
        "timestamp",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ]


def test_base_url_from_argument_environment_or_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREG_DERIBIT_BASE_URL", raising=False)
    assert resolve_base_url() == DEFAULT_BASE_URL
    monkeypatch.setenv("GREG_DERIBIT_BASE_URL", "http://127.0.0.1:9/api/v2/")
    assert resolve_base_url() == "http://127.0.0.1:9/api/v2"
    assert resolve_base_url("http://x/api/v2") == "http://x/api/v2"


# -- offline ---------------------------------------------------------------------------------
def test_offline_raises_plain_error_and_writes_nothing(tmp_path: Path) -> None:
    slept: list[float] = []
    with (
        DeribitClient(base_url=closed_port_url(), sleep=slept.append) as offline,
        pytest.raises(DeribitOffline) as raised,
    ):
        harvest_once(offline, ["BTC", "ETH"], tmp_path, now=NOW)
    message = str(raised.value)
    assert message.startswith("cannot reach Deribit at http://127.0.0.1:")
    assert "connection refused" in message and "a wrong base URL or port?" in message
    assert message.endswith("(no data was written)") and "\n" not in message
    assert len(slept) == 4  # BTC retried 4 times; ETH then not tried at all
    assert files_under(tmp_path) == []


def test_cli_offline_exit_1_plain_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        harvest_cli, "DeribitClient", functools.partial(DeribitClient, sleep=lambda s: None)
    )
    code = harvest_cli.main(
        [
            "--underlying",
            "BTC",
            "--once",
            "--data-dir",
            str(tmp_path),
            "--base-url",
            closed_port_url(),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err.count("\n") == 1 and "cannot reach Deribit at" in err and "no data was written" in err
    )
    assert "Traceback" not in err
    assert files_under(tmp_path) == []


# -- CLI -------------------------------------------------------------------------------------
@pytest.mark.parametrize("interval", ["15x", "abc", "0s", "-5m", "1", ""])
def test_cli_bad_interval_exit_2_one_line(
    interval: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert harvest_cli.main(["--underlying", "BTC", "--interval", interval, "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--interval" in err


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("5m", 300), ("15m", 900), ("1h", 3600)])
def test_cli_interval_values(text: str, seconds: float) -> None:
    assert harvest_cli.parse_interval(text) == seconds


def test_cli_once_prints_a_line_per_underlying(
    fake: FakeDeribit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = harvest_cli.main(
        [
            "harvest",
            "--underlying",
            "BTC",
            "ETH",
            "--once",
            "--data-dir",
            str(tmp_path),
            "--base-url",
            fake.base_url,
        ]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 2
    assert "BTC: 30 instruments (1 skipped) -> " in out[0] and "history +" in out[0]
    assert "ETH: 30 instruments" in out[1]
    assert len(list((tmp_path / "live_deribit").rglob("*.parquet"))) == 2


def test_one_failing_underlying_does_not_stop_the_others(
    fake: FakeDeribit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = harvest_cli.main(
        [
            "--underlying",
            "XRP",
            "BTC",
            "--once",
            "--data-dir",
            str(tmp_path),
            "--base-url",
            fake.base_url,
        ]
    )
    captured = capsys.readouterr()
    out, err = captured.out.splitlines(), captured.err.splitlines()
    assert code == 1
    assert len(err) == 1 and "XRP: FAILED: Deribit error 10009 (invalid_argument)" in err[0]
    assert len(out) == 1 and "BTC: 30 instruments" in out[0]


def test_cli_ctrl_c_in_loop_exits_cleanly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(harvest_cli, "harvest_loop", interrupted)
    assert harvest_cli.main(["--underlying", "BTC", "--base-url", "http://127.0.0.1:9/api/v2"]) == 0
    assert "stopped (Ctrl-C)" in capsys.readouterr().out


# -- loop ------------------------------------------------------------------------------------
def test_loop_runs_rounds_until_stopped(client: DeribitClient, tmp_path: Path) -> None:
    stop = threading.Event()
    reports = []

    def collect(report: harvester.HarvestReport) -> None:
        reports.append(report)
        if len(reports) == 2:
            stop.set()

    rounds = harvest_loop(
        client, ["BTC"], tmp_path, interval_seconds=0.01, stop_event=stop, on_report=collect
    )
    assert rounds == 2 and all(r.ok for r in reports)


class _FlakyClient:
    """Reaches Deribit on the first round only, then the network goes away."""

    base_url = "http://127.0.0.1:9/api/v2"

    def __init__(self, inner: DeribitClient) -> None:
        self.inner, self.book_calls = inner, 0

    def book_summary_options(self, currency: str) -> list[dict[str, Any]]:
        self.book_calls += 1
        if self.book_calls > 1:
            raise DeribitOffline("cannot reach Deribit: offline? (test)", self.base_url)
        return self.inner.book_summary_options(currency)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_loop_rides_out_an_outage_but_not_a_dead_start(
    client: DeribitClient, tmp_path: Path
) -> None:
    flaky, reports, outages = _FlakyClient(client), [], []
    rounds = harvest_loop(
        flaky,
        ["BTC"],
        tmp_path,
        0.01,
        on_report=reports.append,
        on_offline=outages.append,
        max_rounds=3,
    )
    assert (rounds, len(reports), len(outages)) == (3, 1, 2)
    assert "no data was written" in outages[0]

    with (
        DeribitClient(base_url=closed_port_url(), max_retries=0) as dead,
        pytest.raises(DeribitOffline),
    ):
        harvest_loop(dead, ["BTC"], tmp_path / "dead", 0.01, max_rounds=3)


# -- atomic writes ---------------------------------------------------------------------------
def test_atomic_writes_leave_no_temp_files(client: DeribitClient, tmp_path: Path) -> None:
    harvest_once(client, ["BTC", "ETH"], tmp_path, now=NOW)
    harvest_once(client, ["BTC"], tmp_path, now=NOW + pd.Timedelta(minutes=5))
    names = [p.name for p in files_under(tmp_path)]
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]
    assert len(names) == 3 + 3 + 3  # 3 snapshots + 3 history files per underlying

    target = tmp_path / "history" / "btc_dvol_daily.csv"
    before = target.read_bytes()

    def half_written_then_crash(temp: Path) -> None:
        temp.write_text("date,dvol_close\n2025-01-01,")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_written_then_crash)
    assert target.read_bytes() == before
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
