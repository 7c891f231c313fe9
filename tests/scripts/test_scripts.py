"""The foundation's scripts, run in-process through their ``main(argv)``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

import backtest.regimes.builder as regime_builder
from synthetic.regime_model import default_regime_model, load_regime_model, save_regime_model

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(SCRIPTS))  # the scripts `import _paths`
    spec = importlib.util.spec_from_file_location(f"script_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # A lighter phi_iv calibration (two candidates, one seed) keeps these tests fast; the full
    # calibration runs in tests/test_realism.py.
    monkeypatch.setattr(regime_builder, "PHI_EXPONENTS", (1.0, 5.0))
    monkeypatch.setattr(regime_builder, "CALIBRATION_SEEDS", (101,))
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

    model = load_regime_model("BTC", output)
    assert model.source == str(output)
    assert model.n_regimes == 6
    prov = model.provenance
    assert prov["source"] == "btc_usd_daily_ohlcv.csv + btc_dvol_daily.csv"
    assert prov["span"] == ["2023-05-06", "2025-11-09"]
    assert prov["samples_used"] == 919 and prov["rows_left_out"] == 441
    assert prov["n_clusters"] == 6
    assert prov["phi_iv_exponent"] in (1.0, 5.0)
    rv_levels = [model.regimes[k].mu_rv_30d for k in range(6)]
    assert rv_levels == sorted(rv_levels)
    # The other underlying in the file is kept as it was.
    payload = json.loads(output.read_text())
    assert sorted(payload["underlyings"]) == ["BTC", "ETH"]
    assert load_regime_model("ETH", output).regimes == eth.regimes


def test_n_clusters_option(builder: ModuleType, real_args: list[str], tmp_path: Path) -> None:
    output = tmp_path / "regimes.json"
    assert builder.main(["--underlying", "BTC", "--n-clusters", "3", *real_args, "--output", str(output)]) == 0
    model = load_regime_model("BTC", output)
    assert model.n_regimes == 3 and model.transition_matrix.shape == (3, 3)


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


def test_realism_report_script_prints_the_tables(
    real_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(regime_builder, "PHI_EXPONENTS", (5.0,))
    monkeypatch.setattr(regime_builder, "CALIBRATION_SEEDS", (101,))
    module = load_script("realism_report", monkeypatch)
    code = module.main([
        "--ohlc", str(real_dir / "btc_usd_daily_ohlcv.csv"), "--iv", str(real_dir / "btc_dvol_daily.csv"),
        "--days", "600", "--seeds", "1", "2",
    ])
    out = capsys.readouterr().out
    assert "seed 1, 600 synthetic days" in out and "seed 2, 600 synthetic days" in out
    assert "median over seeds 1, 2" in out
    median = out.split("median over seeds")[1]
    for check in ("KS vrp_30d", "KS adx_14d", "vrp_30d autocorr lag 10"):
        assert check in median
    assert code == (1 if " NO" in median else 0)


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
