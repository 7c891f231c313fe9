"""What happened after each sample (docs/outcomes.md): forward outcomes computed from the
future path only, never fed back into sensors, decisions, regimes or bins.

* ``edge``: the forward vol edge ``edge_{H}d = iv_30d(t) - RV(t+1..t+H)``.
* ``structures``: each strategy's option legs.
* ``forward``: ``forward_outcomes``, the edge and every structure's P&L per entry day.
* ``stats``: episodes, Newey-West intervals, outcome summaries, walk-forward split, BH flags.
* ``scorecard``: per-group outcome rows, sensor signals, the multiple-testing line.
"""

from backtest.outcomes.forward import forward_outcomes

__all__ = ["forward_outcomes"]
