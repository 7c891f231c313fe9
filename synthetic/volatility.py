"""Spot volatility of the synthetic universe and the model's own forecast of it.

The vol of day t+1 (annualized, vol points) is set at the close of day t by the regime then in
force and a latent log-vol state shared by every regime (docs/synthetic.md)::

    sigma_{t+1} = mu_rv_30d[s_t] * exp(x_t + y_t + beta * T_t)
    x_t = phi * x_{t-1} + eta * z_t                        (slow vol state, z skewed)
    y_t = psi * y_{t-1} + news(eps_t)                      (vol spikes after large moves)
    T_t = lam * T_{t-1} + (1 - lam) * clip(eps_t, -c, c)   (trend of past moves)
    news(e) = alpha * (min(e^2, c^2) - E[min(e^2, c^2)]) + gamma * clip(e, -c, c)

``eps_t`` is day t's standardized return shock (Student-t cut at ``RETURN_CAP`` s.d., unit
variance). A large move raises
the vol that follows more than in proportion (``alpha``: on BTC, DVOL rose ~1% after a 1-s.d.
day and ~15% after a 3.5-s.d. day) and the spike fades faster (``psi``) than vol's slow swings
(``phi``), so vol jumps up and decays as DVOL does; up and down days can act differently
(``gamma``); ``T`` is
the trend of past moves (an exponential average with half-life ``trend_half_life`` days; models
built since the trend-dependent spot-vol fit use ``MARKET_TREND_HALF_LIFE_DAYS``, the lag of a
200-day average, older files 10 days) and ``beta`` lifts vol while a rally lasts (BTC 2023-25:
DVOL was high in its 6-month range when the price was far above its 200-day average, and
realized vol rose with it); ``z_t`` is a shock the market sees before returns show it,
which is why implied vol forecasts realized vol better than the trailing sample does. ``z``
has mean 0, variance 1 and skewness ``vol_shock_skew`` (``vol_shocks``): Gaussian at 0, else a
centred gamma, so the slow vol rises in rare bursts and declines steadily between them, as
BTC's DVOL does (its 5-day log changes have skewness ~+1 and its 20-day ones a median well
below the middle of their range; docs/synthetic.md). Moves enter capped at ``c = NEWS_CAP``
standard deviations, which keeps every moment finite.

``VolForecaster.expected_rv`` is the model's expectation at t of the vol realized over the
next ``horizon`` days, read as a variance swap (as DVOL is built): the square root of the
expected mean daily variance. Every future shock enters ``x`` linearly or through a function
of one day's move, and the regime chain is independent of the shocks, so

    E_t[sigma^2_{t+1+j}] = (P^j mu_rv^2)[s_t] * exp(2 (phi^j x_t + psi^j y_t + beta lam^j T_t)) * C_j

exactly, with ``C_j`` a product of one-day moment generating functions computed once per
model: by quadrature over the Student-t density for the moves, in closed form for ``z``
(``vol_shock_log_mgf``; finite while ``2 * vol_of_vol < 2 / vol_shock_skew``, hence the
joint bound ``vol_of_vol * vol_shock_skew < 1`` of ``VolDynamics.validate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cache, cached_property

import numpy as np

from greg_core.checks import check_number, check_object
from synthetic.recursion import linear_recurrence

FORECAST_DAYS = 30
FRONT_DAYS = 7
NEWS_CAP = 5.0
# Return shocks are cut at this many s.d. (see student_t_unit).
RETURN_CAP = 8.0
# The trend state's half-life in files written before it was a parameter.
TREND_HALF_LIFE_DAYS = 10.0
# What the builder uses now: the exponential average with the mean lag of a 200-day simple
# average (99.5 days, keep = 99.5 / 100.5), i.e. the trend price_vs_ma200 measures.
MARKET_TREND_HALF_LIFE_DAYS = math.log(0.5) / math.log(99.5 / 100.5)
# Integration grid for one day's move (Simpson over [-c, c], the tails in closed form).
_GRID_POINTS = 1601
_CHUNK = 1 << 16
# Lags past this add less than 1e-10 to a log moment generating function.
_MAX_LAGS = 20_000
_SMALL = 1e-4

# Each dynamics field's valid interval (closed).
DYNAMICS_RANGES: dict[str, tuple[float, float]] = {
    "persistence": (0.0, 0.999),
    "vol_of_vol": (0.0, 0.5),
    "news_persistence": (0.0, 0.999),
    "news_square": (0.0, 0.1),
    "news_signed": (-0.5, 0.5),
    "trend_feedback": (-5.0, 5.0),
    "t_dof": (4.5, 200.0),
    "trend_half_life": (1.0, 365.0),
    "iv_news": (0.0, 0.1),
    "iv_news_persistence": (0.0, 0.999),
    "vol_shock_skew": (0.0, 20.0),
}
# vol_of_vol * vol_shock_skew must stay below this: E[exp(2 eta z)] of a centred gamma z of
# skewness k is finite only while 2 eta < 2 / k (the model's expected variance).
MAX_SKEWED_VOL_OF_VOL = 1.0


@dataclass(frozen=True)
class VolDynamics:
    """The model-level vol parameters every regime shares (see the module docstring).

    ``persistence`` phi and ``vol_of_vol`` eta are daily, ``news_persistence`` psi the daily
    persistence of the spikes that news starts; ``news_square`` alpha is the log-vol
    change per unit of a day's squared standardized move, ``news_signed`` gamma per standard
    deviation of it (up minus down); ``trend_feedback`` beta the log-vol per unit of the trend
    state (an average of standardized moves), ``trend_half_life`` its half-life in days;
    ``t_dof`` the Student-t degrees of freedom of return shocks. ``iv_news`` is the log-IV
    overreaction per unit of a day's centred squared standardized move (capped like ``news``)
    and ``iv_news_persistence`` its daily persistence: the transient part of implied vol's
    response to a large move, on top of the model's forecast (``synthetic.universe``).
    ``vol_shock_skew`` is the skewness of the latent vol shock ``z`` (0: Gaussian, the
    models before it; ``vol_shocks``). ``fitted`` lists what was estimated from data."""

    persistence: float = 0.985
    vol_of_vol: float = 0.03
    news_persistence: float = 0.9
    news_square: float = 0.008
    news_signed: float = 0.0
    trend_feedback: float = 0.0
    t_dof: float = 6.0
    trend_half_life: float = TREND_HALF_LIFE_DAYS
    iv_news: float = 0.0
    iv_news_persistence: float = 0.0
    vol_shock_skew: float = 0.0
    fitted: tuple[str, ...] = field(default_factory=tuple)

    def validate(self) -> None:
        for name, (low, high) in DYNAMICS_RANGES.items():
            check_number(getattr(self, name), name, low, high)
        if self.vol_shock_skew * self.vol_of_vol >= MAX_SKEWED_VOL_OF_VOL:
            raise ValueError(
                f"vol_shock_skew x vol_of_vol must be below {MAX_SKEWED_VOL_OF_VOL:g} (the expected "
                f"variance is infinite otherwise), got {self.vol_shock_skew:g} x {self.vol_of_vol:g}"
            )
        if not isinstance(self.fitted, tuple) or not all(isinstance(x, str) for x in self.fitted):
            raise ValueError("fitted must be a list of names")

    @property
    def trend_keep(self) -> float:
        """The trend state's daily persistence lam."""
        return 0.5 ** (1.0 / self.trend_half_life)

    def trend_sd(self) -> float:
        """Stationary s.d. of the trend state for unit-variance moves (cap ignored):
        ``trend_feedback`` times this is the log-vol per s.d. of trend."""
        keep = self.trend_keep
        return math.sqrt((1.0 - keep) / (1.0 + keep))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fitted"] = list(self.fitted)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> VolDynamics:
        check_object(data, {f.name for f in fields(cls)})
        values = dict(data)
        fitted = values.get("fitted", [])
        if not isinstance(fitted, list | tuple):
            raise ValueError("fitted must be a list of names")
        values["fitted"] = tuple(fitted)
        dynamics = cls(**values)
        dynamics.validate()
        return dynamics


# ------------------------------------------------------------------------------ shocks


def unit_t_density(e: np.ndarray, dof: float) -> np.ndarray:
    """Density of a Student-t with ``dof`` degrees of freedom scaled to unit variance."""
    scale = math.sqrt(dof / (dof - 2.0))
    log_norm = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    t = e * scale
    return np.exp(log_norm - (dof + 1) / 2 * np.log1p(t * t / dof)) * scale


@dataclass(frozen=True)
class _Truncation:
    mass: float  # P(|T| <= RETURN_CAP) for T unit-variance Student-t
    scale: float  # 1 / s.d. of T given |T| <= RETURN_CAP


def _simpson(cap: float, points: int) -> tuple[np.ndarray, np.ndarray]:
    """An odd number of ``points`` on [-cap, cap] and their Simpson weights (density not
    included): the quadrature both the truncation and the one-day expectations use."""
    grid = np.linspace(-cap, cap, points)
    simpson = np.ones(points)
    simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
    return grid, simpson * (grid[1] - grid[0]) / 3.0


@cache
def _truncation(dof: float) -> _Truncation:
    grid, simpson = _simpson(RETURN_CAP, 8001)
    weights = simpson * unit_t_density(grid, dof)
    mass = float(weights.sum())
    return _Truncation(mass, 1.0 / math.sqrt(float(np.dot(weights, grid**2)) / mass))


def shock_density(e: np.ndarray, dof: float) -> np.ndarray:
    """Density of a day's return shock: a unit-variance Student-t cut at ``RETURN_CAP`` s.d.
    and rescaled to unit variance again (zero beyond the cut)."""
    cut = _truncation(dof)
    t = np.asarray(e, dtype=float) / cut.scale
    inside = np.abs(t) <= RETURN_CAP
    return np.where(inside, unit_t_density(t, dof) / (cut.mass * cut.scale), 0.0)


def student_t_unit(rng: np.random.Generator, n: int, dof: float) -> np.ndarray:
    """``n`` return shocks (``shock_density``): Student-t draws beyond ``RETURN_CAP`` s.d. are
    drawn again, so one day can be extreme (BTC's worst days were ~6 s.d.) but never absurd
    (an untruncated t(5.6) gives a 70-s.d. day somewhere in a million)."""
    unit = math.sqrt(dof / (dof - 2.0))
    draws = rng.standard_t(dof, n) / unit
    outside = np.flatnonzero(np.abs(draws) > RETURN_CAP)
    while len(outside):
        redrawn = rng.standard_t(dof, len(outside)) / unit
        draws[outside] = redrawn
        outside = outside[np.abs(redrawn) > RETURN_CAP]
    return draws * _truncation(dof).scale


def vol_shocks(rng: np.random.Generator, n: int, skew: float) -> np.ndarray:
    """``n`` latent vol shocks ``z``: mean 0, variance 1, skewness ``skew``. Gaussian for 0;
    else ``(G - a) / sqrt(a)`` with ``G`` gamma of shape ``a = 4 / skew^2``: mostly small
    negative values (vol eases) and now and then a large positive one (a burst), bounded
    below by ``-sqrt(a)``. A gamma-driven Ornstein-Uhlenbeck process is the classic model of
    a vol that jumps up and decays (Barndorff-Nielsen and Shephard, 2001)."""
    if skew <= 0.0:
        return rng.standard_normal(n)
    shape = 4.0 / skew**2
    draws = rng.standard_gamma(shape, n)
    draws -= shape
    draws /= math.sqrt(shape)
    return draws


def vol_shock_log_mgf(s: np.ndarray, skew: float) -> np.ndarray:
    """log E[exp(s z)] for the shocks of ``vol_shocks``: ``s^2 / 2`` for Gaussian ones, else
    ``-a log(1 - s / sqrt(a)) - s sqrt(a)`` (finite for ``s < sqrt(a) = 2 / skew``)."""
    s = np.asarray(s, dtype=float)
    if skew <= 0.0:
        return 0.5 * s * s
    shape = 4.0 / skew**2
    root = math.sqrt(shape)
    return -shape * np.log1p(-s / root) - s * root


class _OneDay:
    """Expectations over one day's standardized move by quadrature on [-c, c]; beyond the
    cap every function of the move is constant, so the tails add closed-form terms."""

    def __init__(self, dof: float):
        grid, simpson = _simpson(NEWS_CAP, _GRID_POINTS)
        self.grid = grid
        self.weights = simpson * shock_density(grid, dof)
        self.tail = max(0.0, (1.0 - self.weights.sum()) / 2.0)  # P(eps > c) = P(eps < -c)
        self.mean_square = float(np.dot(self.weights, grid**2) + 2.0 * self.tail * NEWS_CAP**2)
        self.var_square = float(np.dot(self.weights, (grid**2 - self.mean_square) ** 2)
                                + 2.0 * self.tail * (NEWS_CAP**2 - self.mean_square) ** 2)
        self.second_clip = self.mean_square  # E[clip(eps)^2]

    def log_mgf(self, square: np.ndarray, linear: np.ndarray) -> np.ndarray:
        """log E[exp(square * (min(e^2, c^2) - E) + linear * clip(e))], vectorized."""
        square = np.atleast_1d(np.asarray(square, dtype=float))
        linear = np.atleast_1d(np.asarray(linear, dtype=float))
        centred = self.grid**2 - self.mean_square
        inside = np.empty(len(square))
        for lo in range(0, len(square), 256):  # rows of the (coefficients x grid) matrix
            rows = slice(lo, lo + 256)
            inside[rows] = np.exp(square[rows, None] * centred + linear[rows, None] * self.grid) @ self.weights
        top = square * (NEWS_CAP**2 - self.mean_square)
        tails = self.tail * (np.exp(top + linear * NEWS_CAP) + np.exp(top - linear * NEWS_CAP))
        return np.log(inside + tails)


class VolProcess:
    """The log-vol process of one ``VolDynamics``: its path from shocks, its stationary law
    and the coefficients of its forecast."""

    def __init__(self, dynamics: VolDynamics):
        self.dynamics = dynamics
        self.one_day = _OneDay(dynamics.t_dof)

    def shock_coefficients(self, lags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How one day's shocks reach the log-vol ``x + y + beta T`` n days later (n = 0..lags-1):
        coefficients on the centred capped square, on the capped move and on ``z``."""
        d = self.dynamics
        n = np.arange(lags)
        spikes = d.news_persistence**n
        keep = d.trend_keep
        linear = d.news_signed * spikes + d.trend_feedback * (1.0 - keep) * keep**n
        return d.news_square * spikes, linear, d.vol_of_vol * d.persistence**n

    def carries(self, lags: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Today's (x, y, T) weights in the log-vol j days ahead: (phi^j, psi^j, beta lam^j)."""
        d, j = self.dynamics, np.arange(lags)
        return d.persistence**j, d.news_persistence**j, d.trend_feedback * d.trend_keep**j

    def log_mgf_by_lag(self, lags: int, k: float = 2.0) -> np.ndarray:
        """log E[exp(k * (what one day's shocks add to the log-vol n days later))], n < lags.

        The latent shock's part is exact in closed form; the move's part by quadrature, except at
        lags where its coefficients are below ``_SMALL`` (far in the past), where the
        second-order cumulant is exact to ~1e-12."""
        square, linear, gauss = self.shock_coefficients(lags)
        square, linear = k * square, k * linear
        out = vol_shock_log_mgf(k * gauss, self.dynamics.vol_shock_skew)
        large = (np.abs(square) > _SMALL) | (np.abs(linear) > _SMALL)
        out[large] += self.one_day.log_mgf(square[large], linear[large])
        small = ~large
        out[small] += 0.5 * (square[small] ** 2 * self.one_day.var_square + linear[small] ** 2 * self.one_day.second_clip)
        return out

    @cached_property
    def _lags(self) -> int:
        phi = max(self.dynamics.persistence, self.dynamics.news_persistence, self.dynamics.trend_keep)
        return int(min(_MAX_LAGS, max(64, math.ceil(math.log(1e-12) / math.log(phi)) if phi > 0 else 64)))

    def mean_square_factor(self) -> float:
        """E[exp(2x)] under the stationary law: the RMS vol of a regime is mu_rv * sqrt(this)."""
        return float(math.exp(self.log_mgf_by_lag(self._lags).sum()))

    def stationary_sd(self) -> tuple[float, float, float]:
        """Stationary s.d. of the states (x, y, T)."""
        d = self.dynamics
        var_x = d.vol_of_vol**2 / (1.0 - d.persistence**2)
        var_y = (d.news_square**2 * self.one_day.var_square + d.news_signed**2 * self.one_day.second_clip) / (
            1.0 - d.news_persistence**2)
        keep = d.trend_keep
        var_t = (1.0 - keep) ** 2 * self.one_day.second_clip / (1.0 - keep**2)
        return math.sqrt(var_x), math.sqrt(var_y), math.sqrt(var_t)

    def paths(self, eps: np.ndarray, vol_shocks: np.ndarray, start: tuple[float, float, float]) -> VolState:
        """The states after each day's shocks, from ``start`` = (x, y, T) before the first
        (the IV overreaction from 0: it forgets its start within the warm-up)."""
        d = self.dynamics
        capped = np.clip(eps, -NEWS_CAP, NEWS_CAP)
        square = capped * capped
        square -= self.one_day.mean_square
        spike_in = d.news_square * square
        if d.news_signed:
            spike_in += d.news_signed * capped
        overreaction = None
        if d.iv_news:
            square *= d.iv_news
            overreaction = linear_recurrence(d.iv_news_persistence, square, 0.0)
        return VolState(
            slow=linear_recurrence(d.persistence, d.vol_of_vol * vol_shocks, start[0]),
            spike=linear_recurrence(d.news_persistence, spike_in, start[1]),
            trend=linear_recurrence(d.trend_keep, (1.0 - d.trend_keep) * capped, start[2]),
            iv_overreaction=overreaction,
        )

    def log_vol(self, state: VolState) -> np.ndarray:
        """x + y + beta T: the log of each next day's vol over its regime's level."""
        out = state.slow + state.spike
        if self.dynamics.trend_feedback:
            out += self.dynamics.trend_feedback * state.trend
        return out


@dataclass(frozen=True)
class VolState:
    """The vol states at each close: slow ``x``, ``spike`` y and ``trend`` T (arrays), and
    the log-IV overreaction to past moves (None when the model has none)."""

    slow: np.ndarray
    spike: np.ndarray
    trend: np.ndarray
    iv_overreaction: np.ndarray | None = None


# ------------------------------------------------------------------------------ forecast


class VolForecaster:
    """The model's expected realized vol over the next ``horizon`` days, for any state.

    Built once per model: ``C_j``, ``B_j`` from the vol process and the regime part
    ``(P^j mu_rv^2)`` from the transition matrix, for j < horizon."""

    def __init__(self, dynamics: VolDynamics, levels: np.ndarray, transition_matrix: np.ndarray):
        self.process = VolProcess(dynamics)
        self.levels = np.asarray(levels, dtype=float)
        self.matrix = np.asarray(transition_matrix, dtype=float)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _table(self, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """((phi^j, psi^j, beta lam^j) as rows, log C_j, R_j[s]) for j = 0..horizon-1."""
        if horizon not in self._tables:
            log_mgf = self.process.log_mgf_by_lag(horizon)
            log_c = np.concatenate(([0.0], np.cumsum(log_mgf)[:-1]))
            regime_var = np.empty((horizon, len(self.levels)))
            current = self.levels**2
            for j in range(horizon):
                regime_var[j] = current
                current = self.matrix @ current
            self._tables[horizon] = (np.stack(self.process.carries(horizon)), log_c, regime_var)
        return self._tables[horizon]

    def expected_variance(self, state: VolState, regime: np.ndarray, horizon: int = FORECAST_DAYS) -> np.ndarray:
        """Mean of E_t[sigma^2_{t+k}], k = 1..horizon (vol points squared), per day."""
        return self.expected_variances(state, regime, (horizon,))[0]

    def expected_variances(
        self, state: VolState, regime: np.ndarray, horizons: Sequence[int]
    ) -> list[np.ndarray]:
        """``expected_variance`` for several horizons at once: the days they share are
        computed once (the 7-day forecast is the first 7 days of the 30-day one), the same
        figures bit for bit as one horizon at a time. The exponentials are most of the cost."""
        longest = max(horizons)
        carries, log_c, regime_var = self._table(longest)
        regime = np.asarray(regime)
        columns = (state.slow, state.spike, state.trend)
        n = len(regime)
        outs = [np.empty(n) for _ in horizons]
        for lo in range(0, n, _CHUNK):
            part = slice(lo, lo + _CHUNK)
            exponent = np.repeat(log_c[:, None], len(regime[part]), axis=1)  # (horizon, chunk)
            for carry, column in zip(carries, columns, strict=True):
                exponent += (2.0 * carry)[:, None] * np.asarray(column, dtype=float)[part]
            np.exp(exponent, out=exponent)
            exponent *= regime_var[:, regime[part]]
            for horizon, out in zip(horizons, outs, strict=True):
                out[part] = exponent[:horizon].sum(axis=0) / horizon
        return outs

    def expected_rv(self, state: VolState, regime: np.ndarray, horizon: int = FORECAST_DAYS) -> np.ndarray:
        """sqrt of ``expected_variance``: vol points, the ``rv_30d_t`` of the IV target."""
        return np.sqrt(self.expected_variance(state, regime, horizon))
