"""The scan setup as the form holds it (text and choices), and its validation.

Field-level problems (not a number, percent out of range, no data folder) are phrased for the
form; everything else is checked by the engine's own ``validate_sweep_params`` so the app and
``--export`` accept exactly the same sweeps.

The form's defaults are the engine's (``backtest.heatmaps.options``, plain Python); the
engine itself (pandas, scipy) is imported only by ``validate_config``, so this module does
not delay the app's first frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from backtest.heatmaps import options


def _text(number: float) -> str:
    return f"{number:g}"


@dataclass(frozen=True)
class ScanConfig:
    """Raw form values. Percent fields are in percent (0.5 means 0.5 %).

    ``None`` lists stand for the engine's defaults (``resolved`` fills them in); a blank
    ``data_dir`` for the app's data folder."""

    underlyings: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    strategies: tuple[str, ...] | None = None  # keys
    x_bins: str = _text(options.DEFAULT_X_BINS)
    y_bins: str = _text(options.DEFAULT_Y_BINS)
    min_occupancy_pct: str = _text(options.DEFAULT_MIN_ENV_FRAC * 100)
    min_pass_pct: str = _text(options.DEFAULT_MIN_PASS_FRAC * 100)
    top_k: str = _text(options.DEFAULT_TOP_K)
    lookback_days: str = ""  # blank: the source's default
    source: str = options.DEFAULT_SOURCE
    missing_policy: str = options.DEFAULT_MISSING_POLICY
    count_mode: str = options.DEFAULT_COUNT_MODE
    # Binning and forward outcomes (docs/heatmaps.md, docs/outcomes.md).
    bin_mode: str = options.DEFAULT_BIN_MODE
    clip_pct: str = _text(options.DEFAULT_CLIP_PCT)  # percent of each tail outside the axis range
    horizon_days: str = _text(options.DEFAULT_HORIZON_DAYS)
    min_episodes: str = _text(options.DEFAULT_MIN_EPISODES)
    rank_by: str = options.DEFAULT_RANK_BY
    data_dir: str = ""  # blank: the app's --data-dir, else the engine's default folder

    def with_values(self, **changes) -> ScanConfig:
        return replace(self, **changes)

    def resolved(self, data_dir: Path | None = None) -> ScanConfig:
        """The same setup with the engine's defaults in place of ``None`` lists and of a blank
        data folder (``data_dir`` when given, else ``greg_core.settings.default_data_dir()``)."""
        from greg_core.settings import default_data_dir

        return replace(
            self,
            underlyings=tuple(options.DEFAULT_UNDERLYINGS) if self.underlyings is None else self.underlyings,
            metrics=tuple(options.DEFAULT_METRICS) if self.metrics is None else self.metrics,
            strategies=options.DEFAULT_STRATEGY_KEYS if self.strategies is None else self.strategies,
            data_dir=self.data_dir.strip() or str(data_dir if data_dir is not None else default_data_dir()),
        )


@dataclass(frozen=True)
class Validation:
    params: object | None  # backtest.greg_sweetspots.SweepParams when valid
    error: str | None = None
    field: str | None = None  # the form field to blame, when known
    data_dir: Path | None = None  # the data folder the sweep reads (real sources)
    pending: bool = False  # not validated yet: the engine is still loading
    missing_data: tuple[str, ...] = ()  # valid values, but underlyings without data (one line each)

    @property
    def ok(self) -> bool:
        return self.params is not None


PENDING = Validation(None, "the research engine is still loading", pending=True)


class _FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name


def _whole(name: str, label: str, text: str, *, blank_ok: bool = False) -> int | None:
    text = text.strip()
    if not text:
        if blank_ok:
            return None
        raise _FieldError(name, f"{label}: enter a whole number")
    try:
        value = int(text)
    except ValueError:
        raise _FieldError(name, f"{label}: {text!r} is not a whole number") from None
    if value <= 0:
        raise _FieldError(name, f"{label} must be greater than 0, got {value}")
    return value


def _percent_points(name: str, label: str, text: str, high: float = 100.0) -> float:
    """A percent field as typed (0.5 for 0.5 %), between 0 and ``high``."""
    text = text.strip().rstrip("%").strip()
    try:
        value = float(text)
    except ValueError:
        raise _FieldError(name, f"{label}: {text!r} is not a number") from None
    if not 0.0 <= value <= high:
        raise _FieldError(name, f"{label} must be between 0 and {high:g} %, got {value:g}")
    return value


def _percent(name: str, label: str, text: str) -> float:
    return _percent_points(name, label, text) / 100.0


def _data_folder(config: ScanConfig) -> Path | None:
    """The data folder a real source reads; it must exist (synthetic needs none)."""
    text = config.data_dir.strip()
    if config.source == "synthetic":
        return Path(text).expanduser() if text else None
    if not text:
        raise _FieldError("data_dir", f"Data folder: enter the folder holding the {config.source} data")
    folder = Path(text).expanduser()
    if not folder.exists():
        raise _FieldError("data_dir", f"Data folder {text} does not exist ({config.source} data is read from it)")
    if not folder.is_dir():
        raise _FieldError("data_dir", f"Data folder {text} is a file, not a folder")
    return folder


def _missing_real_data(config: ScanConfig, data_dir: Path | None) -> tuple[str, ...]:
    """For a real source, why underlyings have no data in the folder (the engine's own check
    that a run makes first: names only, a few stat calls), so the setup is not ready before
    any work is done."""
    from backtest.data.availability import check_data_available

    if config.source == "synthetic":
        return ()
    return tuple(a.problem for a in check_data_available(config.underlyings, config.source, data_dir)
                 if not a.usable and a.problem)


def validate_config(config: ScanConfig) -> Validation:
    """Check every value; the first problem is returned as one line (and its field)."""
    from backtest.heatmaps.binning import MAX_CLIP_PCT
    from backtest.heatmaps.sweep import validate_sweep_params
    from greg_core.errors import SweepConfigError

    config = config.resolved() if None in (config.underlyings, config.metrics, config.strategies) else config
    try:
        x_bins = _whole("x_bins", "X bins", config.x_bins)
        y_bins = _whole("y_bins", "Y bins", config.y_bins)
        for name, label, bins in (("x_bins", "X bins", x_bins), ("y_bins", "Y bins", y_bins)):
            if bins is not None and bins > options.MAX_BINS:  # the engine's own bound, named for the form
                raise _FieldError(name, f"{label} must be at most {options.MAX_BINS}, got {bins}")
        min_env = _percent("min_occupancy_pct", "Min occupancy", config.min_occupancy_pct)
        min_pass = _percent("min_pass_pct", "Min pass rate", config.min_pass_pct)
        top_k = _whole("top_k", "Top K", config.top_k)
        lookback = _whole("lookback_days", "Lookback days", config.lookback_days, blank_ok=True)
        clip = _percent_points("clip_pct", "Clip tails", config.clip_pct, MAX_CLIP_PCT)
        horizon = _whole("horizon_days", "Horizon days", config.horizon_days)
        if horizon is not None and not 2 <= horizon <= options.MAX_HORIZON_DAYS:
            raise _FieldError("horizon_days", f"Horizon days must be from 2 to {options.MAX_HORIZON_DAYS}, got {horizon}")
        min_episodes = _whole("min_episodes", "Min episodes", config.min_episodes)
        if not config.underlyings:
            raise _FieldError("underlyings", "Pick at least one underlying")
        if len(config.metrics) < 2:
            raise _FieldError("metrics", "Pick at least two metrics (they form the pairs)")
        if not config.strategies:
            raise _FieldError("strategies", "Pick at least one strategy")
        data_dir = _data_folder(config)
    except _FieldError as exc:
        return Validation(None, str(exc), exc.field_name)
    try:
        params = validate_sweep_params(
            config.underlyings, config.metrics, config.strategies, x_bins, y_bins, min_env, min_pass,
            top_k, config.source, lookback, config.missing_policy, config.count_mode,
            bin_mode=config.bin_mode, clip_pct=clip, horizon_days=horizon, min_episodes=min_episodes,
            rank_by=config.rank_by,
        )
    except SweepConfigError as exc:
        return Validation(None, str(exc), None)
    missing = _missing_real_data(config, data_dir)
    return Validation(params, data_dir=data_dir, missing_data=missing, field="underlyings" if missing else None)
