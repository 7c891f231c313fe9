"""Harvester faults (issue 13): snapshot names to the second, a timeout told apart from a
refused connection and from a malformed base URL, failures on stderr with the right exit
code, and one harvester per data folder."""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from backtest.data.chain import list_snapshot_files
from backtest.harvest.client import DeribitClient, resolve_base_url
from backtest.harvest.harvester import harvest_lock, harvest_once
from greg_core.errors import DeribitConfigError, DeribitOffline, DeribitTimeout, FolderBusyError
from greg_tui import harvest_cli
from tests.backtest.harvest.test_harvester import NOW, FakeDeribit, closed_port_url, files_under

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def silent_server():
    """Accepts connections and never answers: every request times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/api/v2"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


# ------------------------------------------------------------------ names to the second


def test_rounds_in_the_same_minute_keep_their_own_snapshot(client: DeribitClient, tmp_path: Path):
    for seconds in range(0, 25, 5):  # --interval 5s: five rounds in one minute
        harvest_once(client, ["BTC"], tmp_path, now=NOW + pd.Timedelta(seconds=seconds), with_history=False)
    names = sorted(p.name for p in (tmp_path / "live_deribit").rglob("*.parquet"))
    assert names == [f"BTC_2025-12-11_0004{s:02d}.parquet" for s in (26, 31, 36, 41, 46)]
    assert len(list_snapshot_files(tmp_path, "BTC")) == 5


# ------------------------------------------------------------------ network faults


def test_a_timeout_is_reported_as_a_timeout(silent_server: str, tmp_path: Path):
    with (
        DeribitClient(base_url=silent_server, timeout=0.2, max_retries=1, sleep=lambda s: None) as slow,
        pytest.raises(DeribitTimeout) as raised,
    ):
        harvest_once(slow, ["BTC"], tmp_path, now=NOW)
    message = str(raised.value)
    assert "did not answer within 0.2s (2 attempts): timed out" in message
    assert "offline?" not in message and "refused" not in message
    assert files_under(tmp_path) == []


def test_a_refused_connection_is_not_called_a_timeout(tmp_path: Path):
    with (
        DeribitClient(base_url=closed_port_url(), max_retries=0) as refused,
        pytest.raises(DeribitOffline) as raised,
    ):
        harvest_once(refused, ["BTC"], tmp_path, now=NOW)
    assert not isinstance(raised.value, DeribitTimeout)
    assert "connection refused" in str(raised.value) and "timed out" not in str(raised.value)


@pytest.mark.parametrize("url", ["notaurl", "ftp://deribit/api", "http:///api/v2", "www.deribit.com/api/v2"])
def test_a_malformed_base_url_is_a_configuration_error(monkeypatch, url):
    monkeypatch.setenv("GREG_DERIBIT_BASE_URL", url)
    with pytest.raises(DeribitConfigError) as raised:
        resolve_base_url()
    assert "$GREG_DERIBIT_BASE_URL" in str(raised.value) and "not an http(s) URL" in str(raised.value)


def test_cli_tells_bad_url_timeout_and_refusal_apart(monkeypatch, capsys, tmp_path, silent_server):
    monkeypatch.setattr(
        harvest_cli, "DeribitClient", functools.partial(DeribitClient, sleep=lambda s: None, timeout=0.2)
    )
    common = ["--underlying", "BTC", "--once", "--data-dir", str(tmp_path)]
    monkeypatch.setenv("GREG_DERIBIT_BASE_URL", "deribit.com/api/v2")
    assert harvest_cli.main(common) == 2
    bad_url = capsys.readouterr().err
    monkeypatch.delenv("GREG_DERIBIT_BASE_URL")
    assert harvest_cli.main([*common, "--base-url", silent_server]) == 1
    timed_out = capsys.readouterr().err
    assert harvest_cli.main([*common, "--base-url", closed_port_url()]) == 1
    refused = capsys.readouterr().err
    for err in (bad_url, timed_out, refused):
        assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "is not an http(s) URL" in bad_url
    assert "timed out" in timed_out and "offline?" not in timed_out
    assert "connection refused" in refused and "timed out" not in refused
    assert files_under(tmp_path) == []


# ------------------------------------------------------------------ exit codes and streams


def test_a_corrupt_local_history_file_exits_2_on_stderr(fake: FakeDeribit, tmp_path: Path, capsys):
    broken = tmp_path / "history" / "btc_usd_daily_ohlcv.csv"
    broken.parent.mkdir()
    broken.write_text("when,price\nyesterday,1\n")
    code = harvest_cli.main(["--underlying", "BTC", "--once", "--data-dir", str(tmp_path), "--base-url", fake.base_url])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and "FAILED" in captured.err and "missing column 'date'" in captured.err


@pytest.mark.parametrize("args", [["--bogus"], ["--underlying"], ["--interval", "1x"]])
def test_argument_errors_are_one_line(args, capsys):
    assert harvest_cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("greg-tui harvest: error:") and "usage" not in err


# ------------------------------------------------------------------ one harvester per folder


def test_a_second_harvester_on_one_folder_is_refused_in_one_line(fake: FakeDeribit, tmp_path: Path, capsys):
    with harvest_lock(tmp_path):
        code = harvest_cli.main(["--underlying", "BTC", "--once", "--data-dir", str(tmp_path), "--base-url", fake.base_url])
        err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert f"the data folder {tmp_path} is being written by pid" in err and "try again" in err
    assert files_under(tmp_path) == []
    assert fake.calls["get_book_summary_by_currency"] == 0  # refused before any request


def test_the_lock_holds_across_processes_and_dies_with_its_holder(tmp_path: Path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from backtest.harvest.harvester import harvest_lock\n"
         f"with harvest_lock({str(tmp_path)!r}):\n    print('held', flush=True); time.sleep(60)"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusyError, match=f"pid {holder.pid}"), harvest_lock(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5
    while True:  # kill -9 released it: the OS drops the lock with the process
        try:
            with harvest_lock(tmp_path):
                break
        except FolderBusyError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
