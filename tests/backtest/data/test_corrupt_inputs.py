"""Random corruptions of every input file type, fed to its loader (hypothesis): each either
loads or raises the project's one-line error (a ``GregError``), never anything else.

Types: daily bars CSV, DVOL CSV, hourly DVOL parquet, chain snapshot parquet, the regime file
(read path: a bad file falls back to the built-in regimes with a warning). The result files
(manifest, JSON, npz, CSVs) are in tests/backtest/heatmaps/test_corrupt_results.py, with the
same corruptions (``corruptions``).
"""

from __future__ import annotations

import io
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.data.chain import load_harvested_chain
from backtest.data.csv_history import load_iv_csv, load_ohlc_csv
from backtest.data.vol_history import load_volatility_history
from greg_core.errors import GregError
from synthetic.regime_model import RegimeModel, load_regime_model, save_regime_model

NASTY_FIELDS = [b"", b"nan", b"inf", b"-inf", b"-1", b"0", b"1e309", b"abc", b"2024-13-45", b";", b"\x00",
                b"\xff\xfe", b"\"", b"1,5", b"9" * 40, "é".encode()]


@st.composite
def corruptions(draw) -> Callable[[bytes], bytes]:
    """A function that damages a file's bytes in one of the ways disks, editors and
    half-finished copies do."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "replace_all", "field", "utf16", "empty"]))
    position = draw(st.floats(0, 1))
    junk = draw(st.binary(min_size=1, max_size=64))
    count = draw(st.integers(1, 16))
    field = draw(st.sampled_from(NASTY_FIELDS))

    def damage(data: bytes) -> bytes:
        at = int(position * len(data))
        if kind == "truncate":
            return data[:at]
        if kind == "flip":
            out = bytearray(data)
            for k in range(count):
                if out:
                    out[(at + k * 97) % len(out)] ^= junk[k % len(junk)] or 0xFF
            return bytes(out)
        if kind == "insert":
            return data[:at] + junk + data[at:]
        if kind == "delete":
            return data[:at] + data[at + count * 7:]
        if kind == "replace_all":
            return junk * count
        if kind == "field":  # one comma-separated field (or a run of bytes) replaced
            start = data.rfind(b",", 0, at) + 1
            end = data.find(b",", at)
            end = len(data) if end < 0 else end
            return data[:start] + field + data[end:]
        if kind == "utf16":
            return data.decode("utf-8", "replace").encode("utf-16")
        return b""

    return damage


def loads_or_one_line_error(load: Callable[[], object]) -> object | None:
    """The loader's result, or None after a ``GregError`` with a one-line message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load()
    except GregError as exc:
        text = str(exc)
        assert text and "\n" not in text and "Traceback" not in text
        return None


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Originals(dict):
    """The original files; a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self) -> str:
        return f"Originals({', '.join(self)})"


@pytest.fixture(scope="module")
def originals(real_dir: Path, tmp_path_factory) -> dict[str, bytes]:
    """Small real files of each type (the first rows), as bytes."""
    folder = tmp_path_factory.mktemp("originals")
    bars = (real_dir / "btc_usd_daily_ohlcv.csv").read_bytes().splitlines(keepends=True)[:80]
    dvol = (real_dir / "btc_dvol_daily.csv").read_bytes().splitlines(keepends=True)[:80]
    hourly = pq.read_table(real_dir / "volatility_history" / "btc_volatility_history.parquet").slice(0, 200)
    buffer = io.BytesIO()
    pq.write_table(hourly, buffer)
    chain = sorted((real_dir / "live_deribit" / "BTC").rglob("BTC_*.parquet"))[0]
    regime_file = folder / "greg_regimes.json"
    save_regime_model(load_regime_model("BTC", folder / "none.json"), regime_file)
    return Originals({
        "bars": b"".join(bars), "dvol": b"".join(dvol), "hourly": buffer.getvalue(),
        "chain": chain.read_bytes(), "chain_name": chain.name.encode(), "regimes": regime_file.read_bytes(),
    })


@given(corruptions())
@PROPERTY
def test_daily_bars_csv(originals, tmp_path, damage):
    path = tmp_path / "btc_usd_daily_ohlcv.csv"
    path.write_bytes(damage(originals["bars"]))
    loads_or_one_line_error(lambda: load_ohlc_csv(path))


@given(corruptions())
@PROPERTY
def test_dvol_csv(originals, tmp_path, damage):
    path = tmp_path / "btc_dvol_daily.csv"
    path.write_bytes(damage(originals["dvol"]))
    loads_or_one_line_error(lambda: load_iv_csv(path))


@given(corruptions())
@PROPERTY
def test_hourly_dvol_parquet(originals, tmp_path, damage):
    path = tmp_path / "volatility_history" / "btc_volatility_history.parquet"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(damage(originals["hourly"]))
    loads_or_one_line_error(lambda: load_volatility_history(tmp_path, "BTC"))


@given(corruptions())
@PROPERTY
def test_chain_snapshot_parquet(originals, tmp_path, damage):
    day = tmp_path / "live_deribit" / "BTC" / "2025" / "12" / "11"
    shutil.rmtree(tmp_path / "live_deribit", ignore_errors=True)
    day.mkdir(parents=True)
    (day / originals["chain_name"].decode()).write_bytes(damage(originals["chain"]))
    loads_or_one_line_error(lambda: load_harvested_chain(tmp_path, "BTC"))


@given(corruptions())
@PROPERTY
def test_regime_file_read_path(originals, tmp_path, damage):
    """The regime file never breaks a run: unusable -> the built-in regimes, with a warning."""
    path = tmp_path / "greg_regimes.json"
    path.write_bytes(damage(originals["regimes"]))
    model = loads_or_one_line_error(lambda: load_regime_model("BTC", path))
    assert isinstance(model, RegimeModel)
