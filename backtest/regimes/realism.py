"""How close the synthetic universe is to real sensor data: KS statistics and autocorrelation.

The acceptance bounds are the foundation issue's: two-sample Kolmogorov-Smirnov statistic
(synthetic vs real) <= 0.15 for vrp_30d, chop_factor_7d, iv_rank_6m and <= 0.20 for adx_14d,
rsi_14d, price_vs_ma200; lag-1 and lag-10 autocorrelation of vrp_30d within 0.1 of the real.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from backtest.data.csv_history import load_history_csv
from backtest.regimes.builder import build_regime_model
from backtest.sensors.pipeline import compute_sensors
from synthetic.universe import generate_market

KS_BOUNDS: dict[str, float] = {
    "vrp_30d": 0.15,
    "chop_factor_7d": 0.15,
    "iv_rank_6m": 0.15,
    "adx_14d": 0.20,
    "rsi_14d": 0.20,
    "price_vs_ma200": 0.20,
}
AUTOCORR_LAGS: tuple[int, ...] = (1, 10)
AUTOCORR_TOLERANCE = 0.1
REALISM_DAYS = 3000
# One 3000-day path is one draw: lag-10 autocorrelation alone varies by ~0.1 between seeds,
# as much as its tolerance. So the acceptance reads the median over these seeds, and the
# report prints every seed too.
REALISM_SEEDS: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RealismRow:
    check: str
    real: float
    synthetic: float
    statistic: float
    bound: float

    @property
    def ok(self) -> bool:
        return self.statistic <= self.bound


def realism_rows(real: pd.DataFrame, synthetic: pd.DataFrame) -> list[RealismRow]:
    """KS rows (real/synthetic columns hold the medians) then vrp_30d autocorrelation rows."""
    rows = []
    for sensor, bound in KS_BOUNDS.items():
        a, b = real[sensor].dropna(), synthetic[sensor].dropna()
        rows.append(RealismRow(f"KS {sensor}", float(a.median()), float(b.median()), float(ks_2samp(a, b).statistic), bound))
    for lag in AUTOCORR_LAGS:
        a = float(real["vrp_30d"].dropna().autocorr(lag))
        b = float(synthetic["vrp_30d"].dropna().autocorr(lag))
        rows.append(RealismRow(f"vrp_30d autocorr lag {lag}", a, b, abs(a - b), AUTOCORR_TOLERANCE))
    return rows


def median_rows(per_seed: list[list[RealismRow]]) -> list[RealismRow]:
    """Over seeds: the median KS statistic; for autocorrelation rows the distance between the
    median synthetic autocorrelation and the real one."""
    out = []
    for rows in zip(*per_seed, strict=True):
        synthetic = float(np.median([r.synthetic for r in rows]))
        if rows[0].check.startswith("KS"):
            statistic = float(np.median([r.statistic for r in rows]))
        else:
            statistic = abs(synthetic - rows[0].real)
        out.append(RealismRow(rows[0].check, rows[0].real, synthetic, statistic, rows[0].bound))
    return out


@dataclass
class RealismReport:
    real: pd.DataFrame
    per_seed: dict[int, list[RealismRow]]
    model_provenance: dict

    @property
    def median(self) -> list[RealismRow]:
        return median_rows(list(self.per_seed.values()))


def realism_report(
    ohlc_csv: Path,
    iv_csv: Path,
    days: int = REALISM_DAYS,
    seeds: tuple[int, ...] = REALISM_SEEDS,
    n_clusters: int = 6,
) -> RealismReport:
    """Real sensors from the CSVs, regimes built from them, and one synthetic path per seed
    measured against the real sensors (the whole loop the foundation issue measures)."""
    real = compute_sensors(load_history_csv(ohlc_csv, iv_csv))
    model = build_regime_model(real, "BTC", n_clusters, source=f"{Path(ohlc_csv).name} + {Path(iv_csv).name}")
    per_seed = {}
    for seed in seeds:
        market = generate_market("BTC", days, seed=seed, model=model)
        synthetic = compute_sensors(market.raw).iloc[market.warmup_bars :]
        per_seed[seed] = realism_rows(real, synthetic)
    return RealismReport(real, per_seed, model.provenance)


def format_rows(rows: list[RealismRow]) -> str:
    lines = [f"{'check':<30} {'real':>9} {'synthetic':>10} {'stat':>7} {'bound':>6}  ok"]
    for row in rows:
        lines.append(
            f"{row.check:<30} {row.real:>9.3f} {row.synthetic:>10.3f} {row.statistic:>7.3f} "
            f"{row.bound:>6.2f}  {'yes' if row.ok else 'NO'}"
        )
    return "\n".join(lines)
