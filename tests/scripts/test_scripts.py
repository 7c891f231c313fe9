"""The foundation's scripts, run in-process through their ``main(argv)``."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

import backtest.regimes.builder as regime_builder
import backtest.regimes.realism as realism
from synthetic.regime_model import (
    FORMAT_NAME,
    default_regime_model,
    load_regime_model,
    save_regime_model,
)

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(SCRIPTS))  # the scripts `import _paths`
    spec = importlib.util.spec_from_file_location(f"script_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def light_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few short simulations instead of ~120 long ones, and a 2-seed judge: the same code
    paths in a few seconds (the full build is what data/greg_regimes.json records)."""
    monkeypatch.setattr(regime_builder, "CALIBRATION_SEEDS", (101,))
    monkeypatch.setattr(regime_builder, "CALIBRATION_DAYS", 1500)
    monkeypatch.setattr(regime_builder, "NOISE_PATHS", 2)
    monkeypatch.setattr(regime_builder, "MAX_EVALUATIONS", 1)
    monkeypatch.setattr(regime_builder, "T_DOF_GRID", (5.0, 8.0))
    monkeypatch.setattr(regime_builder, "VOL_SHOCK_SKEW_GRID", (0.0, 6.0))
    monkeypatch.setattr(realism, "REALISM_SEEDS", (1, 2))
    monkeypatch.setattr(realism, "REALISM_DAYS", 800)


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    light_calibration(monkeypatch)
    return load_script("build_greg_regimes_from_harvester", monkeypatch)


@pytest.fixture
def real_args(real_dir: Path) -> list[str]:
    return ["--ohlc", str(real_dir / "btc_usd_daily_ohlcv.csv"), "--iv", str(real_dir / "btc_dvol_daily.csv")]


def test_usage_is_documented_at_the_top(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_script("build_greg_regimes_from_harvester", monkeypatch)
    assert "Usage:" in module.__doc__ and "--underlying" in module.__doc__ and "--n-clusters" in module.__doc__


def test_builds_regime_file_from_real_csvs(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "greg_regimes.json"
    eth = default_regime_model("ETH")
    save_regime_model(eth, output)
    code = builder.main(["--underlying", "btc", *real_args, "--output", str(output)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {output}" in out
    assert "vol dynamics:" in out and "realism" in out

    model = load_regime_model("BTC", output)
    assert model.source == str(output)
    assert model.n_regimes == 6
    prov = model.provenance
    assert prov["source"] == "btc_usd_daily_ohlcv.csv + btc_dvol_daily.csv"
    assert prov["span"] == ["2023-05-06", "2025-11-09"]
    assert prov["samples_used"] == 919 and prov["rows_left_out"] == 441
    assert prov["n_clusters"] == 6
    assert prov["calibration"]["simulations"] > 0
    assert set(prov["calibration"]["moments (real, simulated, sampling s.d.)"]) == set(regime_builder.MOMENT_NAMES)
    # The judge ran and its verdict travels with the model.
    verdict = realism.verdict_from_provenance(model)
    assert verdict is not None and verdict.seeds == (1, 2) and verdict.days == 800
    assert set(model.dynamics.fitted) == set(regime_builder.DYNAMICS_PARAMETERS)
    # The other underlying in the file is kept as it was.
    payload = json.loads(output.read_text())
    assert sorted(payload["underlyings"]) == ["BTC", "ETH"]
    assert load_regime_model("ETH", output).regimes == eth.regimes


def test_n_clusters_option(builder: ModuleType, real_args: list[str], tmp_path: Path) -> None:
    output = tmp_path / "regimes.json"
    assert builder.main(["--underlying", "BTC", "--n-clusters", "3", *real_args, "--output", str(output), "--no-judge"]) == 0
    model = load_regime_model("BTC", output)
    assert model.n_regimes == 3 and model.transition_matrix.shape == (3, 3)
    assert realism.verdict_from_provenance(model) is None  # --no-judge


@pytest.mark.parametrize("value", ["0", "-2"])
def test_bad_n_clusters_exits_2(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    output = tmp_path / "regimes.json"
    assert builder.main(["--underlying", "BTC", "--n-clusters", value, *real_args, "--output", str(output)]) == 2
    assert "n-clusters" in capsys.readouterr().err
    assert not output.exists()


def test_more_clusters_than_days_exits_2(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "regimes.json"
    assert builder.main(["--underlying", "BTC", "--n-clusters", "5000", *real_args, "--output", str(output)]) == 2
    assert "n_clusters" in capsys.readouterr().err
    assert not output.exists()


def test_corrupt_csv_exits_2_naming_the_file(
    builder: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad_ohlc.csv"
    bad.write_text("date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,2,oops,1.5\n", encoding="utf-8")
    output = tmp_path / "regimes.json"
    code = builder.main(["--underlying", "BTC", "--ohlc", str(bad), "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(bad) in err and "'low'" in err
    assert "Traceback" not in err
    assert not output.exists()


def test_missing_csv_exits_2(builder: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    absent = tmp_path / "absent.csv"
    assert builder.main(["--underlying", "BTC", "--ohlc", str(absent), "--output", str(tmp_path / "r.json")]) == 2
    assert str(absent) in capsys.readouterr().err


def test_iv_without_ohlc_exits_2(builder: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert builder.main(["--underlying", "BTC", "--iv", str(tmp_path / "iv.csv")]) == 2
    assert "--iv" in capsys.readouterr().err


def test_corrupt_regime_file_is_not_overwritten(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "greg_regimes.json"
    output.write_text("{not json", encoding="utf-8")
    assert builder.main(["--underlying", "BTC", *real_args, "--output", str(output)]) == 2
    assert str(output) in capsys.readouterr().err
    assert output.read_text(encoding="utf-8") == "{not json"


def test_realism_report_script_prints_the_judges_table(
    real_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = load_script("realism_report", monkeypatch)
    code = module.main([
        "--ohlc", str(real_dir / "btc_usd_daily_ohlcv.csv"), "--iv", str(real_dir / "btc_dvol_daily.csv"),
        "--regime-file", str(tmp_path / "absent.json"), "--days", "600", "--seeds", "1", "2", "--per-seed",
    ])
    out = capsys.readouterr().out
    assert "seed 1, 600 synthetic days" in out and "seed 2, 600 synthetic days" in out
    assert "median over seeds 1, 2" in out and "built-in defaults" in out
    median = out.split("median over seeds")[1]
    for check in realism.CHECKS:
        assert check.name in median
    assert ("model outcomes, realism: pass" in out) == (code == 0)
    assert ("model outcomes, realism: fail" in out) == (code == 1)


def test_realism_report_rejects_bad_input(
    real_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = load_script("realism_report", monkeypatch)
    assert module.main(["--days", "10"]) == 2
    assert "--days" in capsys.readouterr().err
    assert module.main(["--ohlc", str(tmp_path / "absent.csv")]) == 2
    err = capsys.readouterr().err
    assert "absent.csv" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unwritable_output_is_one_line_exit_1(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 13 item 10: a parent that is a file: one line, no traceback, exit 1 (the run
    failed for a reason other than its data; greg_tui/command_line.py), before the build."""
    a_file = tmp_path / "not_a_folder"
    a_file.write_text("x", encoding="utf-8")
    for output in (a_file / "regimes.json", a_file / "deeper" / "regimes.json"):
        assert builder.main(["--underlying", "BTC", *real_args, "--output", str(output), "--no-judge"]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "cannot write" in err and "not_a_folder" in err


def test_write_failure_is_one_line_exit_1(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A write refused by the system (read-only folder, full disk) at the very end."""
    import synthetic.regime_model as regime_model

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(regime_model, "write_text_atomic", refuse)
    output = tmp_path / "r.json"
    assert builder.main(["--underlying", "BTC", *real_args, "--output", str(output), "--no-judge"]) == 1
    lines = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("BTC:")]
    assert lines == [f"error: cannot write the regime file {output}: Permission denied; it is unchanged"]
    assert not output.exists()


def test_unwritable_folder_is_refused_before_the_build(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A folder the process may not write (a read-only mount refuses even root) is found
    before the minute-long build, not after it."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(builder.os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    monkeypatch.setattr(builder, "build_regime_model", lambda *a, **k: pytest.fail("built before checking the folder"))
    assert builder.main(["--underlying", "BTC", *real_args, "--output", str(locked / "r.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot write the regime file {locked / 'r.json'}: the folder {locked} is not writable; it is unchanged"]
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_line_exit_1(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code = builder.main(["--underlying", "BTC", *real_args, "--output", str(locked / "r.json"), "--no-judge"])
        lines = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("BTC:")]
    finally:
        locked.chmod(0o700)
    assert code == 1
    assert len(lines) == 1 and "cannot write" in lines[0] and "Traceback" not in lines[0], lines
    assert list(locked.iterdir()) == []


def test_old_regime_file_is_replaced_with_a_note(
    builder: ModuleType, real_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "greg_regimes.json"
    output.write_text(json.dumps({"format": FORMAT_NAME, "version": 1, "underlyings": {"ETH": {}}}), encoding="utf-8")
    assert builder.main(["--underlying", "BTC", *real_args, "--output", str(output), "--no-judge"]) == 0
    err = capsys.readouterr().err
    assert "version 1" in err and "ETH" in err
    assert json.loads(output.read_text())["version"] == 2
    assert load_regime_model("BTC", output).source == str(output)


def test_prices_given_as_iv_exit_2_and_write_nothing(
    builder: ModuleType, real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = str(real_dir / "btc_usd_daily_ohlcv.csv")
    output = tmp_path / "r.json"
    assert builder.main(["--underlying", "BTC", "--ohlc", bars, "--iv", bars, "--output", str(output)]) == 2
    assert "not an implied vol" in capsys.readouterr().err
    assert not output.exists()


def test_bars_without_iv_exit_2_instead_of_placeholder_regimes(
    builder: ModuleType, real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "r.json"
    code = builder.main(["--underlying", "BTC", "--ohlc", str(real_dir / "btc_usd_daily_ohlcv.csv"), "--output", str(output)])
    assert code == 2
    assert "no 30-day implied vol" in capsys.readouterr().err
    assert not output.exists()


def test_built_in_defaults_are_the_checkouts_regime_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """synthetic/btc_model.py is write_default_regimes.py's rendering of
    data/greg_regimes.json: rebuilding one without the other fails here."""
    module = load_script("write_default_regimes", monkeypatch)
    regime_file = SCRIPTS.parent / "data" / "greg_regimes.json"
    btc = json.loads(regime_file.read_text(encoding="utf-8"))["underlyings"]["BTC"]
    assert module.render(btc) == module.TARGET.read_text(encoding="utf-8")


def test_built_in_defaults_name_no_folder_outside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendered module text (its docstring is what help and screens quote) points inside
    the repository only (issue 12 #10: no `shared/` or `../` paths)."""
    module = load_script("write_default_regimes", monkeypatch)
    regime_file = SCRIPTS.parent / "data" / "greg_regimes.json"
    text = module.render(json.loads(regime_file.read_text(encoding="utf-8"))["underlyings"]["BTC"])
    defaults = (SCRIPTS.parent / "synthetic" / "default_regimes.py").read_text(encoding="utf-8")
    for quoted in (text, defaults):
        assert "shared/" not in quoted and "../" not in quoted
    assert "no ETH data\nto calibrate on and ETH is BTC-derived" in defaults
