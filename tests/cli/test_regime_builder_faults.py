"""scripts/build_greg_regimes_from_harvester.py when its output cannot be written or another
writer holds the regime file: one line, the right exit code, the file unchanged (issue 13,
item 10)."""

from __future__ import annotations

import errno
from pathlib import Path
from types import ModuleType

import pytest

from greg_core.locking import lock_for
from tests.scripts.test_scripts import light_calibration, load_script


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    light_calibration(monkeypatch)
    return load_script("build_greg_regimes_from_harvester", monkeypatch)


@pytest.fixture
def real_args(real_dir: Path) -> list[str]:
    return ["--underlying", "BTC", "--ohlc", str(real_dir / "btc_usd_daily_ohlcv.csv"),
            "--iv", str(real_dir / "btc_dvol_daily.csv")]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "clustering and calibrating" not in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_parent_is_a_file(builder, real_args, tmp_path, capsys):
    (tmp_path / "data").write_text("not a folder")
    target = tmp_path / "data" / "greg_regimes.json"
    assert builder.main([*real_args, "--output", str(target)]) == 1
    line = one_error_line(capsys)
    assert line == f"error: cannot write the regime file {target}: {tmp_path / 'data'} is a file, not a folder; it is unchanged"


def test_read_only_folder(builder, real_args, tmp_path, capsys, monkeypatch):
    """Root ignores a read-only mode bit, so the OS refusal is injected where the file is written."""
    target = tmp_path / "greg_regimes.json"

    def refused(model, path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(builder, "save_regime_model", refused)
    assert builder.main([*real_args, "--output", str(target)]) == 1
    line = one_error_line(capsys)
    assert line == f"error: cannot write the regime file {target}: Permission denied; it is unchanged"
    assert not target.exists()


def test_a_second_writer_waits_then_refuses_in_one_line(builder, real_args, tmp_path, capsys, monkeypatch):
    target = tmp_path / "greg_regimes.json"
    monkeypatch.setattr(builder, "LOCK_WAIT_SECONDS", 0.3)
    with lock_for(target):
        assert builder.main([*real_args, "--output", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"waiting: {target} is being written by pid" in err
    assert f"error: {target} is being written by pid" in err and "(waited 0 s)" in err
    assert not target.exists()


@pytest.mark.parametrize("args", [["--n-clusters", "x"], ["--bogus"], []])
def test_argument_errors_are_one_line(builder, args, capsys):
    with pytest.raises(SystemExit) as info:
        builder.main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage" not in err
