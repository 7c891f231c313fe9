"""The realism judge: the synthetic universe measured against the real BTC history.

Every check of docs/synthetic.md ("The realism judge") is computed on one synthetic path per
seed (``REALISM_SEEDS``, ``REALISM_DAYS`` days each, warm-up dropped) against the same real
history, then read as the median over seeds: a 3,000-day path is one draw, and statistics such
as an autocorrelation at lag 10 vary between seeds by as much as their tolerance.

A check compares a real figure with a synthetic one through a rule and a bound:

* ``|syn - real|``, ``|syn/real - 1|``, ``syn/real``, ``syn - real`` or ``syn`` (a figure
  bounded on its own), ``KS`` (two-sample Kolmogorov-Smirnov distance, median over seeds);
* a check passes when its statistic is finite and at most its bound. Rows without a bound
  are shown for context (the components of a judged row) and never fail.

Bounds marked "issue 10" are that issue's measured acceptance; the others are set here from
the real figure's sampling noise and documented in docs/synthetic.md. Forward quantities use
the one definition of the forward edge (``backtest.outcomes.edge``), trade days come from the
selector (``backtest.selector.evaluate.evaluate_frame``) with the sensors the real history
lacks removed on both sides, and regime labels from a KMeans fitted on the real sensors.

``realism_verdict`` turns a report into the pass/fail figure an output or a screen shows
("model outcomes, realism: pass"); the regime builder stores it in the regime file's
provenance (``verdict_from_provenance`` reads it back without recomputing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.csv_history import load_history_csv
from backtest.outcomes.edge import forward_edge, forward_realized_vol
from backtest.selector.evaluate import NO_TRADE, NOT_EVALUABLE, evaluate_frame
from backtest.sensors.pipeline import compute_sensors
from backtest.sensors.sources import HISTORY, SensorData
from synthetic.regime_model import RegimeModel
from synthetic.regimes import DEFAULT_CLUSTER_COLUMNS, RegimeClustering, fit_regime_clustering
from synthetic.universe import generate_market

REALISM_DAYS = 3000
REALISM_SEEDS: tuple[int, ...] = (1, 2, 3, 4, 5)
EDGE_HORIZON_DAYS = 30
# The existing one-dimensional checks.
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
IV_SPIKE_LEVEL = 150.0
# Features of the real-vs-synthetic classifier: the clustering sensors plus IV and RV levels.
CLASSIFIER_FEATURES: tuple[str, ...] = (
    "vrp_30d", "chop_factor_7d", "iv_rank_6m", "adx_14d", "rsi_14d", "price_vs_ma200",
    "iv_30d", "rv_30d", "rv_7d",
)
CLASSIFIER_BLOCKS = 5
# The baseline "real" sample is another synthetic path of the real sample's length.
BASELINE_SEED_OFFSET = 10_000


# ------------------------------------------------------------------------------ rules


def _abs_diff(real: float, syn: float) -> float:
    return abs(syn - real)


def _rel_diff(real: float, syn: float) -> float:
    return abs(syn / real - 1.0) if real != 0 else np.inf


def _ratio(real: float, syn: float) -> float:
    return syn / real if real != 0 else np.inf


def _diff(real: float, syn: float) -> float:
    return syn - real


def _value(real: float, syn: float) -> float:
    return syn


RULES: dict[str, Callable[[float, float], float]] = {
    "|syn - real|": _abs_diff,
    "|syn/real - 1|": _rel_diff,
    "syn/real": _ratio,
    "syn - real": _diff,
    "syn": _value,
    "KS": _value,  # per seed the KS distance itself; over seeds its median
}


@dataclass(frozen=True)
class Check:
    """How a row is judged: ``rule`` names the statistic, ``bound`` its maximum (None: shown
    for context only), ``origin`` where the bound comes from."""

    name: str
    rule: str
    bound: float | None
    origin: str = "issue 10"


def _checks() -> list[Check]:
    checks = [
        Check("edge_30d s.d.", "|syn/real - 1|", 0.25),
        Check("edge_30d autocorr lag 10", "|syn - real|", 0.15),
        Check("edge_30d slope on z(vrp_30d)", "syn", 1.0),
        Check("edge_30d trade minus no-trade", "syn", 2.0, "set here"),
        Check("future RV on IV: IV coef", "syn", None, "context"),
        Check("future RV on IV: trailing RV coef", "syn", None, "context"),
        Check("future RV: trailing coef - IV coef", "syn", 0.0),
        Check("excess kurtosis of log returns", "syn", 10.0),
        Check("largest daily log move", "syn/real", 1.6, "set here"),
        Check("iv_30d 99th percentile", "syn/real", 1.5),
        Check(f"share of days iv_30d > {IV_SPIKE_LEVEL:g}", "syn", 0.002, "set here"),
        Check("autocorr of daily iv_30d changes", "|syn - real|", 0.10, "set here"),
        Check("spearman iv_rank_6m x price_vs_ma200", "|syn - real|", 0.35, "set here"),
        Check("spearman iv_rank_6m x adx_14d", "|syn - real|", 0.35, "set here"),
        Check("classifier AUC (real col: baseline)", "syn - real", 0.15, "set here"),
        Check("mean run of sensor-labelled regime", "|syn/real - 1|", 0.30, "set here"),
        Check("mean run, labelled by the real centres", "|syn/real - 1|", None, "context"),
    ]
    checks += [Check(f"KS {name}", "KS", bound) for name, bound in KS_BOUNDS.items()]
    checks += [
        Check(f"vrp_30d autocorr lag {lag}", "|syn - real|", AUTOCORR_TOLERANCE) for lag in AUTOCORR_LAGS
    ]
    return checks


CHECKS: tuple[Check, ...] = tuple(_checks())
CHECK_BY_NAME: dict[str, Check] = {c.name: c for c in CHECKS}


@dataclass(frozen=True)
class RealismRow:
    check: str
    real: float
    synthetic: float
    statistic: float
    bound: float | None
    rule: str = "|syn - real|"
    origin: str = "issue 10"

    @property
    def judged(self) -> bool:
        return self.bound is not None

    @property
    def ok(self) -> bool:
        if self.bound is None:
            return True
        return bool(np.isfinite(self.statistic) and self.statistic <= self.bound)


def _row(name: str, real: float, syn: float, statistic: float | None = None) -> RealismRow:
    check = CHECK_BY_NAME[name]
    if statistic is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = RULES[check.rule](float(real), float(syn))
    return RealismRow(name, float(real), float(syn), float(statistic), check.bound, check.rule, check.origin)


# ------------------------------------------------------------------------------ samples


@dataclass
class Sample:
    """One market (real or synthetic) with what the checks read: raw bars, sensors, the
    forward edge and forward RV (NaN where the future is not in the sample)."""

    raw: pd.DataFrame
    sensors: pd.DataFrame
    edge: pd.Series
    forward_rv: pd.Series

    @classmethod
    def from_raw(cls, raw: pd.DataFrame, keep_from: int = 0) -> Sample:
        sensors = compute_sensors(raw)
        forward_rv = forward_realized_vol(raw["close"], EDGE_HORIZON_DAYS)
        edge = forward_edge(raw, EDGE_HORIZON_DAYS, forward_rv=forward_rv)
        part = slice(keep_from, None)
        return cls(raw.iloc[part], sensors.iloc[part], edge.iloc[part], forward_rv.iloc[part])


@dataclass
class RealReference:
    """The real history every synthetic path is measured against, with the regime labelling
    fitted on it (KMeans on the clustering sensors, the builder's default settings)."""

    sample: Sample
    source: str
    clustering: RegimeClustering
    labels: pd.Series
    absent_sensors: list[str]
    figures: dict[str, float] = field(default_factory=dict)


def real_reference(raw: pd.DataFrame, source: str, n_clusters: int = 6) -> RealReference:
    sample = Sample.from_raw(raw)
    labelled, clustering = fit_regime_clustering(sample.sensors, n_clusters, random_state=0)
    absent = SensorData("REAL", HISTORY, sample.sensors, source).absent_sensors()
    reference = RealReference(sample, source, clustering, labelled["regime_id"], absent)
    reference.figures = sample_figures(sample, reference)
    return reference


def load_real_reference(ohlc_csv: Path, iv_csv: Path) -> RealReference:
    raw = load_history_csv(ohlc_csv, iv_csv)
    return real_reference(raw, f"{Path(ohlc_csv).name} + {Path(iv_csv).name}")


# ------------------------------------------------------------------------------ statistics


def edge_slope_on_vrp(edge: pd.Series, vrp: pd.Series) -> float:
    """OLS slope of the forward edge on standardized vrp_30d: vol points per s.d. of vrp."""
    both = pd.concat([edge, vrp], axis=1).dropna()
    if len(both) < 3 or both.iloc[:, 1].std() == 0:
        return np.nan
    x = both.iloc[:, 1]
    z = (x - x.mean()) / x.std()
    return float(np.polyfit(z.to_numpy(), both.iloc[:, 0].to_numpy(), 1)[0])


def forecast_coefficients(forward_rv: pd.Series, iv: pd.Series, trailing_rv: pd.Series) -> tuple[float, float]:
    """OLS (with intercept) of future RV on [IV, trailing RV]: (IV coef, trailing RV coef)."""
    frame = pd.concat([forward_rv, iv, trailing_rv], axis=1).dropna()
    if len(frame) < 4:
        return np.nan, np.nan
    design = np.column_stack([np.ones(len(frame)), frame.iloc[:, 1], frame.iloc[:, 2]])
    coef, *_ = np.linalg.lstsq(design, frame.iloc[:, 0].to_numpy(), rcond=None)
    return float(coef[1]), float(coef[2])


def trade_minus_no_trade(sensors: pd.DataFrame, edge: pd.Series, absent: Sequence[str]) -> float:
    """Mean forward edge on days the selector trades minus on its NO_TRADE days.

    The sensors the real history lacks are blanked on both sides and ``ignore-missing``
    drops exactly those, so the selector sees the same inputs on real and synthetic data."""
    seen = sensors.copy()
    for name in absent:
        seen[name] = np.nan
    decisions = evaluate_frame(seen, policy="ignore-missing")
    no_trade = decisions.selected_mask(NO_TRADE)
    known = edge.notna().to_numpy() & ~decisions.selected_mask(NOT_EVALUABLE)
    traded, idle = known & ~no_trade, known & no_trade
    if not traded.any() or not idle.any():
        return np.nan
    values = edge.to_numpy()
    return float(values[traded].mean() - values[idle].mean())


def spearman(a: pd.Series, b: pd.Series) -> float:
    both = pd.concat([a, b], axis=1).dropna()
    if len(both) < 3:
        return np.nan
    return float(both.iloc[:, 0].rank().corr(both.iloc[:, 1].rank()))


def mean_run_length(labels: pd.Series) -> float:
    """Mean length of runs of one label over consecutive labelled rows (<NA> breaks a run)."""
    ids = labels.to_numpy(dtype="float64", na_value=np.nan)
    known = np.isfinite(ids)
    if not known.any():
        return np.nan
    # A run starts where a label differs from the previous row's, or follows a gap.
    starts = known & ~np.concatenate(([False], known[1:] & known[:-1] & (ids[1:] == ids[:-1])))
    return float(known.sum() / starts.sum())


def _log_returns(raw: pd.DataFrame) -> pd.Series:
    close = raw["close"].astype("float64")
    return np.log(close.where(close > 0)).diff().dropna()


def sample_figures(sample: Sample, reference: RealReference | None = None) -> dict[str, float]:
    """Every scalar figure of a sample that the checks compare (KS rows need both samples
    and are computed in ``realism_rows``). With ``reference`` the figures that depend on it
    (selector blanks, regime labels) use the real history's choices."""
    sensors, edge = sample.sensors, sample.edge
    returns = _log_returns(sample.raw)
    iv = sensors["iv_30d"].dropna()
    iv_coef, trail_coef = forecast_coefficients(sample.forward_rv, sensors["iv_30d"], sensors["rv_30d"])
    absent = reference.absent_sensors if reference is not None else []
    figures = {
        "edge_30d s.d.": float(edge.std()),
        "edge_30d autocorr lag 10": float(edge.dropna().autocorr(10)),
        "edge_30d slope on z(vrp_30d)": edge_slope_on_vrp(edge, sensors["vrp_30d"]),
        "edge_30d trade minus no-trade": trade_minus_no_trade(sensors, edge, absent),
        "future RV on IV: IV coef": iv_coef,
        "future RV on IV: trailing RV coef": trail_coef,
        "future RV: trailing coef - IV coef": trail_coef - iv_coef,
        "excess kurtosis of log returns": float(returns.kurt()),
        "largest daily log move": float(returns.abs().max()),
        "iv_30d 99th percentile": float(iv.quantile(0.99)),
        f"share of days iv_30d > {IV_SPIKE_LEVEL:g}": float((iv > IV_SPIKE_LEVEL).mean()),
        "autocorr of daily iv_30d changes": float(iv.diff().dropna().autocorr(1)),
        "spearman iv_rank_6m x price_vs_ma200": spearman(sensors["iv_rank_6m"], sensors["price_vs_ma200"]),
        "spearman iv_rank_6m x adx_14d": spearman(sensors["iv_rank_6m"], sensors["adx_14d"]),
    }
    for lag in AUTOCORR_LAGS:
        figures[f"vrp_30d autocorr lag {lag}"] = float(sensors["vrp_30d"].dropna().autocorr(lag))
    if reference is not None:
        own, centres = reference.labels, reference.labels
        if sample is not reference.sample:
            own = own_regime_labels(sensors, reference)
            centres = reference.clustering.assign(sensors)
        figures["mean run of sensor-labelled regime"] = mean_run_length(own)
        figures["mean run, labelled by the real centres"] = mean_run_length(centres)
    return figures


def own_regime_labels(sensors: pd.DataFrame, reference: RealReference) -> pd.Series:
    """Labels from a KMeans fitted on the sample's own sensors, like the real history's, over
    a stretch with as many complete rows as the real one.

    The real labels are in-sample (its KMeans was fitted on those very rows, which pulls
    them toward their centres); labelling synthetic rows with the real centres would compare
    an in-sample with an out-of-sample labelling and mix persistence with the distribution
    differences the KS and classifier rows already measure (docs/synthetic.md)."""
    columns = list(reference.clustering.columns)
    n_real = int(reference.labels.notna().sum())
    complete = sensors[columns].replace([np.inf, -np.inf], np.nan).notna().all(axis=1).to_numpy()
    stop = int(np.flatnonzero(complete)[n_real - 1]) + 1 if complete.sum() >= n_real else len(sensors)
    labelled, _ = fit_regime_clustering(
        sensors.iloc[:stop], reference.clustering.kmeans.n_clusters, columns=columns, random_state=0
    )
    return labelled["regime_id"]


def _blocks(n: int, k: int) -> np.ndarray:
    """Fold number of each of ``n`` consecutive rows: ``k`` contiguous blocks."""
    return np.minimum(np.arange(n) * k // max(n, 1), k - 1)


def classifier_auc(first: pd.DataFrame, second: pd.DataFrame, blocks: int = CLASSIFIER_BLOCKS) -> float:
    """Two-sample classifier test: out-of-fold ROC AUC of gradient boosting telling rows of
    ``first`` from rows of ``second`` (0.5: indistinguishable).

    Blocked cross-validation: each sample is cut into ``blocks`` contiguous time blocks and
    fold k holds out block k of both, so a fold is never predicted from its own neighbours
    (rows of a daily series are strongly autocorrelated)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    a = first[list(CLASSIFIER_FEATURES)].dropna()
    b = second[list(CLASSIFIER_FEATURES)].dropna()
    if len(a) < 2 * blocks or len(b) < 2 * blocks:
        return np.nan
    x = np.vstack([a.to_numpy(), b.to_numpy()])
    y = np.concatenate([np.ones(len(a)), np.zeros(len(b))])
    fold = np.concatenate([_blocks(len(a), blocks), _blocks(len(b), blocks)])
    score = np.empty(len(y))
    # One thread: on a small sample OpenMP's worker threads cost more than they save, and
    # on a busy machine they spin (a fit went from 0.2 s to 5 s on 2 shared cores).
    with threadpool_limits(limits=1):
        for k in range(blocks):
            test = fold == k
            model = HistGradientBoostingClassifier(max_iter=60, max_depth=3, learning_rate=0.1, random_state=0)
            model.fit(x[~test], y[~test])
            score[test] = model.predict_proba(x[test])[:, 1]
    return float(roc_auc_score(y, score))


def _simulate(model: RegimeModel, days: int, seed: int) -> Sample:
    market = generate_market(model.underlying, days, seed=seed, model=model)
    return Sample.from_raw(market.raw, keep_from=market.warmup_bars)


def realism_rows(reference: RealReference, synthetic: Sample, baseline: Sample | None = None) -> list[RealismRow]:
    """Every check for one synthetic sample against the real reference, in ``CHECKS`` order.

    ``baseline`` (another synthetic path of the real sample's length) gives the classifier's
    synthetic-vs-synthetic AUC; without it the classifier row is NaN (and fails)."""
    real = reference.figures
    syn = sample_figures(synthetic, reference)
    auc = classifier_auc(reference.sample.sensors, synthetic.sensors)
    base = classifier_auc(baseline.sensors, synthetic.sensors) if baseline is not None else np.nan
    rows = []
    for check in CHECKS:
        if check.rule == "KS":
            sensor = check.name.removeprefix("KS ")
            a, b = reference.sample.sensors[sensor].dropna(), synthetic.sensors[sensor].dropna()
            rows.append(_row(check.name, float(a.median()), float(b.median()), _ks(a, b)))
        elif check.name.startswith("classifier AUC"):
            rows.append(_row(check.name, base, auc))
        else:
            rows.append(_row(check.name, real[check.name], syn[check.name]))
    return rows


def _ks(a: pd.Series, b: pd.Series) -> float:
    from scipy.stats import ks_2samp

    if a.empty or b.empty:
        return np.nan
    return float(ks_2samp(a, b).statistic)


def median_rows(per_seed: Iterable[list[RealismRow]]) -> list[RealismRow]:
    """Rows over seeds: the median real and synthetic figure, and the statistic of those
    medians by the row's rule (for KS rows: the median KS distance)."""
    out = []
    for rows in zip(*per_seed, strict=True):
        first = rows[0]
        real = float(np.nanmedian([r.real for r in rows]))
        synthetic = float(np.nanmedian([r.synthetic for r in rows]))
        if first.rule == "KS":
            statistic = float(np.nanmedian([r.statistic for r in rows]))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                statistic = float(RULES[first.rule](real, synthetic))
        out.append(RealismRow(first.check, real, synthetic, statistic, first.bound, first.rule, first.origin))
    return out


@dataclass
class RealismReport:
    reference: RealReference
    per_seed: dict[int, list[RealismRow]]
    days: int

    @property
    def median(self) -> list[RealismRow]:
        return median_rows(list(self.per_seed.values()))


def measure_model(
    model: RegimeModel,
    reference: RealReference,
    days: int | None = None,
    seeds: Sequence[int] | None = None,
) -> RealismReport:
    """One ``days``-day path per seed of ``model`` (default ``REALISM_DAYS`` x
    ``REALISM_SEEDS``), each judged against ``reference``."""
    days = REALISM_DAYS if days is None else int(days)
    seeds = REALISM_SEEDS if seeds is None else tuple(seeds)
    n_real = int(reference.sample.sensors[list(CLASSIFIER_FEATURES)].notna().all(axis=1).sum())
    per_seed = {}
    for seed in seeds:
        baseline = _simulate(model, max(n_real, 2 * CLASSIFIER_BLOCKS), BASELINE_SEED_OFFSET + seed)
        per_seed[seed] = realism_rows(reference, _simulate(model, days, seed), baseline)
    return RealismReport(reference, per_seed, days)


def realism_report(
    ohlc_csv: Path,
    iv_csv: Path,
    model: RegimeModel,
    days: int | None = None,
    seeds: Sequence[int] | None = None,
) -> RealismReport:
    """``model`` judged against the real history in the CSVs (daily bars + 30-day IV)."""
    return measure_model(model, load_real_reference(Path(ohlc_csv), Path(iv_csv)), days, seeds)


# ------------------------------------------------------------------------------ verdict


@dataclass(frozen=True)
class RealismVerdict:
    """Pass/fail of the median rows, with the rows and what they were measured on."""

    passed: bool
    rows: tuple[RealismRow, ...]
    days: int
    seeds: tuple[int, ...]
    reference: str

    @property
    def failed_checks(self) -> list[str]:
        return [row.check for row in self.rows if not row.ok]

    @property
    def label(self) -> str:
        """What an output computed on synthetic data says: 'model outcomes, realism: pass'."""
        return f"model outcomes, realism: {'pass' if self.passed else 'fail'}"

    def summary(self) -> str:
        judged = [row for row in self.rows if row.judged]
        passed = sum(row.ok for row in judged)
        text = f"realism {'pass' if self.passed else 'FAIL'}: {passed} of {len(judged)} checks pass"
        if not self.passed:
            text += f" (failing: {', '.join(self.failed_checks)})"
        return text

    def to_dict(self) -> dict:
        def clean(value: float) -> float | None:
            return round(float(value), 6) if np.isfinite(value) else None

        return {
            "passed": self.passed,
            "days": self.days,
            "seeds": list(self.seeds),
            "reference": self.reference,
            "rows": [
                {**asdict(row), "real": clean(row.real), "synthetic": clean(row.synthetic),
                 "statistic": clean(row.statistic), "ok": row.ok}
                for row in self.rows
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> RealismVerdict:
        def number(value) -> float:
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan

        rows = tuple(
            RealismRow(
                str(row["check"]), number(row.get("real")), number(row.get("synthetic")),
                number(row.get("statistic")),
                None if row.get("bound") is None else float(row["bound"]),
                str(row.get("rule", "")), str(row.get("origin", "")),
            )
            for row in data["rows"]
        )
        return cls(bool(data["passed"]), rows, int(data["days"]), tuple(int(s) for s in data["seeds"]),
                   str(data["reference"]))


def realism_verdict(report: RealismReport) -> RealismVerdict:
    """The judge's pass/fail on the median rows of ``report``."""
    rows = tuple(report.median)
    return RealismVerdict(
        passed=all(row.ok for row in rows),
        rows=rows,
        days=report.days,
        seeds=tuple(report.per_seed),
        reference=report.reference.source,
    )


PROVENANCE_KEY = "realism"


def verdict_from_provenance(model: RegimeModel) -> RealismVerdict | None:
    """The verdict stored when ``model`` was built (None when it was never judged or the
    stored figures are unreadable): what the app and outputs show without recomputing."""
    stored = model.provenance.get(PROVENANCE_KEY)
    if not isinstance(stored, dict):
        return None
    try:
        return RealismVerdict.from_dict(stored)
    except (KeyError, TypeError, ValueError):
        return None


def format_rows(rows: Sequence[RealismRow]) -> str:
    lines = [f"{'check':<40} {'real':>9} {'synthetic':>10} {'rule':>15} {'stat':>8} {'bound':>7}  ok"]
    for row in rows:
        bound = "-" if row.bound is None else f"{row.bound:.3g}"
        ok = "" if not row.judged else ("yes" if row.ok else "NO")
        lines.append(
            f"{row.check:<40} {row.real:>9.3f} {row.synthetic:>10.3f} {row.rule:>15} "
            f"{row.statistic:>8.3f} {bound:>7}  {ok}"
        )
    return "\n".join(lines)


__all__ = [
    "AUTOCORR_LAGS", "AUTOCORR_TOLERANCE", "CHECKS", "Check", "KS_BOUNDS", "REALISM_DAYS",
    "REALISM_SEEDS", "RealReference", "RealismReport", "RealismRow", "RealismVerdict", "Sample",
    "DEFAULT_CLUSTER_COLUMNS", "classifier_auc", "format_rows", "load_real_reference",
    "measure_model", "median_rows", "realism_report", "realism_rows", "realism_verdict",
    "verdict_from_provenance",
]
