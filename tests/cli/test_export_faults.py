"""``--export`` with bad input and faults (issues 12 item 2, 13 items 4, 6, 9, 11): one line
on stderr, exit 2 for bad input and 1 for a failed run, never a traceback, nothing written."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

import backtest.heatmaps.store as store
from backtest.heatmaps.store import load_sweep_results, results_lock_file
from greg_core.locking import writer_lock
from greg_tui.cli import main as cli_main
from greg_tui.export import main as export_main

SMALL = ["--metrics", "vrp_30d", "adx_14d", "rsi_14d", "--x-bins", "5", "--y-bins", "4", "--quiet"]


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.fixture
def bars_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    rows = ["date,open,high,low,close"] + [
        f"2024-{1 + d // 28:02d}-{1 + d % 28:02d},{100 + d},{110 + d},{95 + d},{105 + d}" for d in range(300)
    ]
    (folder / "btc_usd_daily_ohlcv.csv").write_text("\n".join(rows) + "\n")
    return folder


def export(args: list[str], base: Path) -> int:
    return export_main([*args, "--base-dir", str(base)])


# ------------------------------------------------------------------ missing data (issue 12 item 2)


def test_a_folder_lacking_one_underlying_exits_2_before_any_work(bars_folder, tmp_path, capsys, monkeypatch):
    import backtest.heatmaps.sweep as sweep

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the data")

    monkeypatch.setattr(sweep, "compute_sweep", never)
    base = tmp_path / "base"
    code = export(["--source", "history", "--data-dir", str(bars_folder), "--underlying", "BTC", "ETH", *SMALL], base)
    assert code == 2
    assert one_line_error(capsys) == (
        f"error: no ETH prices in {bars_folder}: looked for {bars_folder / 'eth_usd_daily_ohlcv.csv'}, "
        f"{bars_folder / 'history' / 'eth_usd_daily_ohlcv.csv'}"
    )
    assert not base.exists()


# ------------------------------------------------------------------ bad data files


def test_a_bad_price_exits_2_naming_file_row_and_column(bars_folder, tmp_path, capsys):
    path = bars_folder / "btc_usd_daily_ohlcv.csv"
    lines = path.read_text().splitlines()
    lines[7] = "2024-01-07,106,116,101,-111"
    path.write_text("\n".join(lines) + "\n")
    assert export(["--source", "history", "--data-dir", str(bars_folder), "--underlying", "BTC", *SMALL], tmp_path / "b") == 2
    line = one_line_error(capsys)
    assert line.startswith(f"error: {path}: row 8: column 'close' is -111.0, a price must be finite and > 0")
    assert not (tmp_path / "b").exists()


def test_a_semicolon_csv_is_reported_as_such(bars_folder, tmp_path, capsys):
    path = bars_folder / "btc_usd_daily_ohlcv.csv"
    path.write_text(path.read_text().replace(",", ";"))
    assert export(["--source", "history", "--data-dir", str(bars_folder), "--underlying", "BTC", *SMALL], tmp_path / "b") == 2
    line = one_line_error(capsys)
    assert "columns are separated by ';'" in line and "missing column" not in line


def test_a_folder_named_like_the_hourly_parquet_is_named_once(bars_folder, tmp_path, capsys):
    folder = bars_folder / "volatility_history" / "btc_volatility_history.parquet"
    folder.mkdir(parents=True)
    assert export(["--source", "history", "--data-dir", str(bars_folder), "--underlying", "BTC", *SMALL], tmp_path / "b") == 2
    line = one_line_error(capsys)
    assert line == f"error: {folder}: is a folder, expected a file named btc_volatility_history.parquet"


def test_a_chain_file_with_an_impossible_time_is_skipped_with_a_warning(real_dir, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(real_dir / "live_deribit", data / "live_deribit")
    shutil.copy(real_dir / "btc_usd_daily_ohlcv.csv", data)
    day = data / "live_deribit" / "BTC" / "2025" / "12" / "11"
    shutil.copy(next(day.glob("*.parquet")), day / "BTC_2025-12-11_2460.parquet")
    code = export(["--source", "harvested", "--data-dir", str(data), "--underlying", "BTC", *SMALL], tmp_path / "b")
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.splitlines() == [
        f"warning: {day / 'BTC_2025-12-11_2460.parquet'}: skipped, name is not BTC_YYYY-MM-DD_HHMMSS.parquet "
        "(or _HHMM) with a real date and time"
    ]
    load_sweep_results(tmp_path / "b" / "backtest" / "output")


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize("value", ["1e18", "1e8", "1000000000000000000", "1000001", "0", "-5", "2.5", "nan", "ten"])
def test_lookback_is_bounded_in_one_line(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        export(["--lookback-days", value], tmp_path / "b")
    assert info.value.code == 2
    line = one_line_error(capsys)
    assert line.startswith("greg-tui --export: error: argument --lookback-days: got") or "error: argument" in line
    assert not (tmp_path / "b").exists()


def test_lookback_in_scientific_notation_and_at_the_bound_is_accepted():
    from greg_tui.export import lookback_days_argument

    assert lookback_days_argument("1e5") == 100_000 and lookback_days_argument("1000000") == 1_000_000


@pytest.mark.parametrize("argv", [["--bogus"], ["--base-dir"], ["--where", "extra"]])
def test_greg_tui_argument_errors_are_one_line_without_usage(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("greg-tui: error:") and "usage:" not in err


# ------------------------------------------------------------------ failed runs


def test_disk_full_exits_1_in_one_line_and_keeps_the_previous_results(tmp_path, capsys, monkeypatch):
    base = tmp_path / "b"
    assert export(["--underlying", "BTC", "--lookback-days", "200", *SMALL], base) == 0
    out = base / "backtest" / "output"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_write = store._write_file

    def full(path, content):
        if Path(path).suffix == ".npz":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, content)

    monkeypatch.setattr(store, "_write_file", full)
    assert export(["--underlying", "ETH", "--lookback-days", "200", *SMALL], base) == 1
    line = one_line_error(capsys)
    assert line.startswith(f"error: cannot write the results to {out}: No space left on device (") and line.endswith(
        "nothing written, previous results left intact")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_second_export_waits_for_the_first_then_says_so(tmp_path, capsys, monkeypatch):
    base = tmp_path / "b"
    out = base / "backtest" / "output"
    monkeypatch.setattr(store, "LOCK_WAIT_SECONDS", 0.3)
    with writer_lock(results_lock_file(out), "another export"):
        code = export(["--underlying", "BTC", "--lookback-days", "200", *SMALL], base)
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert err[0].startswith(f"waiting: the results folder {out} is being written by pid")
    assert err[1].startswith(f"error: the results folder {out} is being written by pid") and len(err) == 2
    assert not out.exists()


def test_ctrl_c_after_the_publish_returned_still_says_the_truth(tmp_path, capsys, monkeypatch):
    """The switch is done, the engine is returning: 'nothing written' would be a lie."""
    import backtest.heatmaps.run as run

    real = run.write_sweep_outputs

    def publish_then_interrupt(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "write_sweep_outputs", publish_then_interrupt)
    base = tmp_path / "b"
    assert export(["--underlying", "BTC", "--lookback-days", "200", *SMALL], base) == 130
    out = base / "backtest" / "output"
    assert capsys.readouterr().err == f"interrupted: the new results were already published in {out}\n"
    load_sweep_results(out)
    monkeypatch.setattr(run, "write_sweep_outputs", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    assert export(["--underlying", "ETH", "--lookback-days", "200", *SMALL], base) == 130
    assert capsys.readouterr().err == "cancelled: nothing written, previous results left intact\n"


def test_an_error_after_the_publish_does_not_say_nothing_was_written(tmp_path, capsys, monkeypatch):
    """The summary fails to read the published files: the line says they were published."""
    import greg_tui.export as export_module

    def unreadable(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", "greg_heatmap_manifest.json")

    monkeypatch.setattr(export_module, "_print_summary", unreadable)
    base = tmp_path / "b"
    assert export(["--underlying", "BTC", "--lookback-days", "200", *[a for a in SMALL if a != "--quiet"]], base) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]  # after the progress lines
    assert line.startswith(f"error: the results were published in {base / 'backtest' / 'output'}, but their summary")
    assert "nothing written" not in line
    assert load_sweep_results(base / "backtest" / "output").manifest["parameters"]["x_bins"] == 5
