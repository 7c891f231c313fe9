"""Headless command lines: scripts/run_greg_environment_heatmaps.py, greg_tui.export.main and
``greg-tui --export``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from greg_tui.cli import main as cli_main
from greg_tui.export import main as export_main

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "run_greg_environment_heatmaps.py"

# The first request's example command, verbatim.
EXAMPLE = [
    "--underlying", "BTC",
    "--metrics", "vrp_30d", "adx_14d", "iv_rank_6m", "skew_25d", "rsi_14d", "price_vs_ma200",
    "--strategies", "Strategy A: ATM Straddle", "Strategy B: OTM Strangle",
    "--x-bins", "20",
    "--y-bins", "20",
    "--min-env-frac", "0.005",
    "--min-pass-frac", "0.4",
]
FAST = ["--underlying", "ETH", "--metrics", "vrp_30d", "adx_14d", "skew_25d", "--lookback-days", "200", "--x-bins", "6"]


def run_script(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the script from ``cwd`` with results going there (``GREG_BASE_DIR``)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "GREG_BASE_DIR": str(cwd)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


def test_first_request_example_command_runs(tmp_path):
    """``python scripts/run_greg_environment_heatmaps.py <example>`` from a user's folder."""
    result = run_script(EXAMPLE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = tmp_path / "backtest" / "output"
    csvs = sorted(p.name for p in output.glob("env_heatmap_BTC_*.csv"))
    assert len(csvs) == 15  # 6 metrics -> 15 unordered pairs
    assert "env_heatmap_BTC_vrp_30d_vs_adx_14d.csv" in csvs
    records = json.loads((output / "greg_heatmap_sweetspots.json").read_text(encoding="utf-8"))
    assert len(records) == 15 * 2
    assert {r["strategy"] for r in records} == {"Strategy A: ATM Straddle", "Strategy B: OTM Strangle"}
    assert sum(len(r["sweet_spots"]) for r in records) > 0
    markdown = (output / "greg_heatmap_sweetspots.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Greg Environment Sweet Spots – summary")
    assert "\n# Greg Environment Sweet Spots – BTC\n" in markdown
    assert "## Strategy B: OTM Strangle – (vrp_30d, adx_14d)" in markdown
    assert "Top sweet spots (min_env_frac = 0.5%, min_pass_frac = 40%):" in markdown
    assert "\n1. vrp_30d ∈ [" in markdown and "   - occupancy ≈ " in markdown
    assert "   - strategy pass rate ≈ " in markdown and "   - score (occupancy * pass) ≈ " in markdown
    # Not a terminal: plain progress lines, then a short summary on stdout.
    assert "[100.0%]" in result.stderr
    assert "sweet spots" in result.stdout and "research only" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--metrics", "vrp_30d", "vol_of_vol"], "vrp_30d, vrp_7d"),  # lists the valid metrics
        (["--strategies", "Strategy Z"], "Strategy A: ATM Straddle"),  # lists the valid strategies
        (["--x-bins", "0"], "x_bins"),
        (["--y-bins", "-2"], "y_bins"),
        (["--min-env-frac", "1.5"], "min_env_frac"),
        (["--min-pass-frac", "-0.1"], "min_pass_frac"),
        (["--missing", "lenient"], "strict, ignore-missing"),
        (["--source", "bloomberg"], "synthetic"),
    ],
)
def test_bad_values_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args, expected):
    code = export_main([*args, "--output-dir", str(tmp_path / "base"), "--lookback-days", "200"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], captured.err
    assert not (tmp_path / "base").exists()


@pytest.mark.parametrize("args", [["--x-bins", "abc"], ["--min-pass-frac", "lots"], ["--no-such-flag"]])
def test_unparseable_arguments_exit_2_with_one_line(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as info:
        export_main([*args, "--output-dir", str(tmp_path / "base")])
    assert info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "base").exists()


def test_script_bad_metric_exit_code_2(tmp_path):
    """The script as a user runs it (its own process: it ends with ``os._exit``, as
    ``greg-tui --export`` does, so it cannot run inside this one)."""
    result = run_script(["--metrics", "vrp_30d", "bogus"], cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "bogus" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_main_writes_outputs_quietly(tmp_path, capsys):
    code = export_main([*FAST, "--output-dir", str(tmp_path), "--quiet", "--missing", "ignore-missing"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    output = tmp_path / "backtest" / "output"
    assert len(list(output.glob("env_heatmap_ETH_*.csv"))) == 3
    manifest = json.loads((output / "greg_heatmap_manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["missing_policy"] == "ignore-missing"
    assert manifest["parameters"]["x_bins"] == 6 and manifest["parameters"]["lookback_days"] == 200


def test_greg_tui_export(tmp_path, capsys):
    code = cli_main(["--export", *FAST, "--strategies", "STRATEGY_A_STRANGLE", "--base-dir", str(tmp_path)])
    assert code == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "sweet spots" in captured.out
    output = tmp_path / "backtest" / "output"
    records = json.loads((output / "greg_heatmap_sweetspots.json").read_text(encoding="utf-8"))
    assert {r["strategy"] for r in records} == {"Strategy B: OTM Strangle"}
    assert (output / "greg_heatmap_sweetspots.md").exists()
    assert (output / "greg_heatmap_grids.npz").exists()


def test_greg_tui_export_bad_value(tmp_path, capsys):
    code = cli_main(["--export", "--x-bins", "0", "--base-dir", str(tmp_path / "base")])
    assert code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "base").exists()


def test_missing_data_folder_is_a_usage_error(tmp_path, capsys):
    code = export_main(["--source", "history", "--data-dir", str(tmp_path / "nope"), "--output-dir", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"error: --data-dir {tmp_path / 'nope'} is not a folder"
    assert not (tmp_path / "backtest").exists()


def test_real_history_summary_names_the_sensors_the_source_lacks(tmp_path, capsys, real_dir):
    code = export_main(
        ["--underlying", "BTC", "--source", "history", "--data-dir", str(real_dir), "--output-dir", str(tmp_path)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "no data in this source for front_rv_iv_ratio, skew_25d, term_structure_spread, vrp_7d" in out
    assert "18 of 28 pairs have no samples" in out


def test_binning_options_reach_the_outputs(tmp_path):
    code = export_main([*FAST, "--bin-mode", "quantile", "--clip-pct", "1", "--base-dir", str(tmp_path), "--quiet"])
    assert code == 0
    output = tmp_path / "backtest" / "output"
    manifest = json.loads((output / "greg_heatmap_manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["bin_mode"] == "quantile" and manifest["parameters"]["clip_pct"] == 1.0
    assert sum(manifest["underlyings"]["ETH"]["pair_outside"].values()) > 0
    markdown = (output / "greg_heatmap_sweetspots.md").read_text(encoding="utf-8")
    assert "bins quantile, range clipped to the 1-99 percentiles" in markdown


@pytest.mark.parametrize(("flags", "message"), [(["--bin-mode", "log"], "unknown bin mode"), (["--clip-pct", "40"], "clip percent")])
def test_bad_binning_options_exit_2(tmp_path, capsys, flags, message):
    assert export_main([*FAST, *flags, "--base-dir", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "backtest").exists()
