"""Build a ``RegimeModel`` from a sensor frame: cluster, fit, estimate transitions, calibrate.

Used by ``scripts/build_greg_regimes_from_harvester.py`` and the app's regimes screen. The
sensor frame comes from ``backtest.sensors.compute_sensors`` whatever the data source, and the
calibration step simulates with ``synthetic.universe`` and measures with the same pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from backtest.sensors.pipeline import compute_sensors
from synthetic.regime_model import RegimeModel
from synthetic.regimes import (
    cluster_greg_sensors_from_real_data,
    estimate_transition_matrix,
    fit_regime_params_from_clusters,
)
from synthetic.universe import generate_market

# Candidate exponents for phi_iv (phi -> phi**k); k = 1 is plain least squares.
PHI_EXPONENTS: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 14.0, 17.0, 20.0)
CALIBRATION_DAYS = 3000
CALIBRATION_SEEDS: tuple[int, ...] = (101, 202, 303, 404, 505, 606)


def vrp_signature(sensors: pd.DataFrame) -> np.ndarray:
    """(lag-1 autocorrelation, lag-10 autocorrelation, s.d.) of vrp_30d."""
    vrp = sensors["vrp_30d"].dropna()
    return np.array([vrp.autocorr(1), vrp.autocorr(10), vrp.std()])


def _signature_distance(simulated: np.ndarray, real: np.ndarray) -> float:
    # Autocorrelations only: the spread of vrp_30d is shaped by RV jumps as much as by the
    # IV persistence, and matching it would trade away the persistence we want to match.
    return float((simulated[0] - real[0]) ** 2 + (simulated[1] - real[1]) ** 2)


def calibrate_phi_iv_exponent(
    labelled: pd.DataFrame,
    matrix: np.ndarray,
    underlying: str,
    real_signature: np.ndarray,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[float, float]:
    """Indirect inference for the phi_iv exponent: the k whose simulated vrp_30d signature is
    closest to the real one. Returns (k, distance)."""
    best = (1.0, np.inf)
    for step, exponent in enumerate(PHI_EXPONENTS):
        regimes = fit_regime_params_from_clusters(labelled, phi_iv_exponent=exponent)
        model = RegimeModel(underlying, regimes, matrix, source="calibration")
        distance = 0.0
        for seed in CALIBRATION_SEEDS:
            market = generate_market(underlying, CALIBRATION_DAYS, seed=seed, model=model)
            simulated = compute_sensors(market.raw).iloc[market.warmup_bars :]
            distance += _signature_distance(vrp_signature(simulated), real_signature)
        if distance < best[1]:
            best = (exponent, distance)
        if progress:
            progress((step + 1) / len(PHI_EXPONENTS), f"calibrating phi_iv (k={exponent:g})")
    return best


def build_regime_model(
    sensors: pd.DataFrame,
    underlying: str,
    n_clusters: int = 6,
    source: str = "unknown",
    random_state: int = 0,
    calibrate: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> RegimeModel:
    """Cluster ``sensors`` into ``n_clusters`` regimes and fit a full model with provenance.

    Raises ``ValueError`` when the data has no 30-day implied vol: regimes are defined by the
    VRP and IV dynamics, and fitting them on prices alone would only give placeholders."""
    if "iv_30d" not in sensors.columns or sensors["iv_30d"].notna().sum() < 2:
        raise ValueError(
            "no 30-day implied vol in this data (iv_30d is empty): regimes need IV, "
            "e.g. a DVOL history (--iv CSV) or a data folder with one (--data-dir)"
        )
    labelled, kmeans = cluster_greg_sensors_from_real_data(sensors, n_clusters, random_state=random_state)
    matrix = estimate_transition_matrix(labelled["regime_id"], n_regimes=n_clusters)
    exponent, distance = 1.0, None
    real_signature = vrp_signature(labelled) if labelled["vrp_30d"].notna().sum() > 30 else None
    if calibrate and real_signature is not None and np.all(np.isfinite(real_signature)):
        exponent, distance = calibrate_phi_iv_exponent(
            labelled, matrix, underlying.upper(), real_signature, progress
        )
    regimes = fit_regime_params_from_clusters(labelled, phi_iv_exponent=exponent)
    used = labelled["regime_id"].notna()
    span = labelled.index[used.to_numpy()]
    provenance = {
        "source": source,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_clusters": n_clusters,
        "cluster_columns": labelled.attrs["cluster_columns"],
        "cluster_columns_unavailable": labelled.attrs["cluster_columns_unavailable"],
        "samples_used": int(used.sum()),
        "rows_left_out": labelled.attrs["regime_rows_left_out"],
        "span": [span.min().date().isoformat(), span.max().date().isoformat()] if len(span) else None,
        "phi_iv_exponent": exponent,
        "phi_iv_calibration_distance": distance,
        "real_vrp_signature": None if real_signature is None else np.round(real_signature, 4).tolist(),
        "kmeans_inertia": float(kmeans.inertia_),
        "cluster_centers_z": np.round(kmeans.cluster_centers_, 4).tolist(),
    }
    return RegimeModel(underlying.upper(), regimes, matrix, provenance, source=f"built from {source}")
