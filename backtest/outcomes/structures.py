"""The option structure behind each of Greg's strategies, and the smile it is priced on
(docs/outcomes.md "Structures").

Every leg is one option on one unit of the underlying, struck on the *entry* smile:

* ATM: strike = the entry forward (= spot, r = 0), priced at ``iv_30d``.
* 25-delta put / call: the strike whose Black-Scholes delta at ``iv_25d_put`` /
  ``iv_25d_call`` is -0.25 / +0.25 (``pricing.strike_for_delta``), priced at that IV.
* 10-delta wings: the smile is flat beyond the points the source has, so a 10-delta put
  (call) is struck and priced at ``iv_25d_put`` (``iv_25d_call``).
* A source without skew (``iv_25d_*`` missing at the entry) prices its 25- and 10-delta legs
  at ``iv_30d``: a flat smile, flagged per entry day (``flat_smile`` in
  ``forward_outcomes``).

Legs expire after the horizon H (default 30 days) except the calendar's, which have fixed
tenors: a 7-day front and a 30-day back, held until the front expires.

Structures are matched to the selector's strategy keys by a word in the key (``STRADDLE``,
``STRANGLE``, ...), so the keys always come from the spec (``SelectorSpec.strategy_keys``)
and a spec's labels never matter; a key no structure matches has no P&L (NaN columns and a
note), never a guessed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

CALENDAR_FRONT_DAYS = 7
CALENDAR_BACK_DAYS = 30
WING_DELTA = 0.25
FAR_WING_DELTA = 0.10

# The tenors (days) of the two ATM vols the raw data carries: the term structure used to mark
# a leg that outlives the holding period (the calendar's back leg).
TERM_POINTS_DAYS: tuple[int, int] = (7, 30)

OptionKind = Literal["call", "put"]


@dataclass(frozen=True)
class Leg:
    """One option of a structure.

    ``position``: -1 short, +1 long (one option on one unit of the underlying).
    ``strike_delta``: None for ATM (strike = entry spot), else the signed Black-Scholes delta
    that sets the strike (-0.25: 25-delta put; +0.10: 10-delta call).
    ``vol_column``: the raw column whose entry value sets the strike and prices the leg
    (``iv_25d_*`` fall back to ``iv_30d`` where the source has no skew).
    ``tenor_days``: None for the horizon H, else a fixed tenor (the calendar's legs).
    """

    option: OptionKind
    position: int
    strike_delta: float | None
    vol_column: str
    tenor_days: int | None = None

    def describe(self) -> str:
        side = "short" if self.position < 0 else "long"
        if self.strike_delta is None:
            where = "ATM"
        else:
            where = f"{round(abs(self.strike_delta) * 100)}-delta"
        tenor = "H" if self.tenor_days is None else f"{self.tenor_days}d"
        return f"{side} {where} {self.option} at {self.vol_column}, expiry {tenor}"


@dataclass(frozen=True)
class Structure:
    """A strategy's legs. ``match`` is the word of the strategy key that names it."""

    name: str
    match: str
    legs: tuple[Leg, ...]
    note: str

    def holding_days(self, horizon_days: int) -> int:
        """Days from entry to the first expiry: the structure is closed then."""
        return min(horizon_days if leg.tenor_days is None else leg.tenor_days for leg in self.legs)

    def tenor_days(self, leg: Leg, horizon_days: int) -> int:
        return horizon_days if leg.tenor_days is None else leg.tenor_days

    def describe(self) -> str:
        return "; ".join(leg.describe() for leg in self.legs)


def _leg(option: OptionKind, position: int, delta: float | None, vol: str, tenor: int | None = None) -> Leg:
    return Leg(option, position, delta, vol, tenor)


STRUCTURES: tuple[Structure, ...] = (
    Structure(
        "straddle",
        "STRADDLE",
        (_leg("call", -1, None, "iv_30d"), _leg("put", -1, None, "iv_30d")),
        "short ATM call + short ATM put",
    ),
    Structure(
        "strangle",
        "STRANGLE",
        (
            _leg("put", -1, -WING_DELTA, "iv_25d_put"),
            _leg("call", -1, WING_DELTA, "iv_25d_call"),
        ),
        "short 25-delta put + short 25-delta call",
    ),
    Structure(
        "iron butterfly",
        "IRON_BUTTERFLY",
        (
            _leg("call", -1, None, "iv_30d"),
            _leg("put", -1, None, "iv_30d"),
            _leg("put", +1, -WING_DELTA, "iv_25d_put"),
            _leg("call", +1, WING_DELTA, "iv_25d_call"),
        ),
        "short ATM straddle + long 25-delta put and call wings",
    ),
    Structure(
        "short put",
        "SHORT_PUT",
        (_leg("put", -1, -WING_DELTA, "iv_25d_put"),),
        "short 25-delta put: premium now, the underlying bought below spot if assigned",
    ),
    Structure(
        "bull put spread",
        "BULL_PUT",
        (
            _leg("put", -1, -WING_DELTA, "iv_25d_put"),
            _leg("put", +1, -FAR_WING_DELTA, "iv_25d_put"),
        ),
        "short 25-delta put + long 10-delta put (smile flat beyond 25-delta)",
    ),
    Structure(
        "bear call spread",
        "BEAR_CALL",
        (
            _leg("call", -1, WING_DELTA, "iv_25d_call"),
            _leg("call", +1, FAR_WING_DELTA, "iv_25d_call"),
        ),
        "short 25-delta call + long 10-delta call (smile flat beyond 25-delta)",
    ),
    Structure(
        "calendar",
        "CALENDAR",
        (
            _leg("call", -1, None, "iv_7d", CALENDAR_FRONT_DAYS),
            _leg("call", +1, None, "iv_30d", CALENDAR_BACK_DAYS),
        ),
        "short 7-day ATM call at iv_7d + long 30-day ATM call at iv_30d, closed at the "
        "front's expiry (the back leg marked at the then 7d/30d term structure); with r = 0 "
        "a put calendar pays exactly the same",
    ),
)

# Where a source has no skew, the wing legs are priced at the ATM vol (a flat smile).
FLAT_SMILE_FALLBACK: Mapping[str, str] = {"iv_25d_put": "iv_30d", "iv_25d_call": "iv_30d"}
FLAT_SMILE_NOTE = "flat smile: no skew in this source (25- and 10-delta legs priced at iv_30d)"


def structure_for_key(key: str) -> Structure | None:
    """The structure a strategy key names (by the word in it), or None."""
    folded = str(key).upper()
    found = [s for s in STRUCTURES if s.match in folded]
    return found[0] if len(found) == 1 else None


def structures_for(keys: Iterable[str]) -> dict[str, Structure | None]:
    """Strategy key -> structure (None where no structure matches), in the keys' order."""
    return {key: structure_for_key(key) for key in keys}


def pnl_column(key: str) -> str:
    """Unhedged P&L column of a strategy: ``pnl_{KEY}``."""
    return f"pnl_{key}"


def hedged_pnl_column(key: str) -> str:
    """Delta-hedged P&L column of a strategy: ``pnl_hedged_{KEY}``."""
    return f"pnl_hedged_{key}"


def term_vol(iv_short: np.ndarray, iv_long: np.ndarray, days: float) -> np.ndarray:
    """ATM vol at ``days`` from the 7-day and 30-day vols (any unit), linear in total variance
    ``w = vol^2 T`` between the two tenors and flat beyond them."""
    short_days, long_days = TERM_POINTS_DAYS
    if days <= short_days:
        return np.asarray(iv_short, dtype=float)
    if days >= long_days:
        return np.asarray(iv_long, dtype=float)
    share = (days - short_days) / (long_days - short_days)
    variance = (1.0 - share) * np.square(iv_short) * short_days + share * np.square(iv_long) * long_days
    return np.sqrt(variance / days)
