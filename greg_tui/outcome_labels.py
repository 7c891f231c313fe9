"""How the app names forward outcomes: what they can be trusted for, their unit, the thin mark.

Trust (docs/outcomes.md, "What the outcomes can be trusted for"): on recorded history they are
"real outcomes"; on the synthetic universe "model outcomes" with the stored realism verdict of
the regime model the run used (``backtest.regimes.realism.verdict_from_provenance(model).label``,
"model outcomes, realism: fail"), or "realism: not judged" when the model never was (a
BTC-derived ETH model: it has no data of its own to be judged on). Which model: the one the
run's provenance names (its regime file, or the built-in defaults), read again now; if that
file was rebuilt after the run, the verdict shown is the rebuilt model's (docs/app.md).

Importing this module is light (the sweet-spot screen uses it before the engine is loaded);
``outcome_trust`` imports the regime model when it is first asked about a synthetic run.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

THIN_MARK = "~"  # next to a figure resting on fewer episodes than the run's min_episodes
# How a thin figure is set apart in tables: italic, not dim (dim text on the cursor and zebra
# rows falls below the 4.5:1 contrast every screen keeps, tests/app/test_contrast.py).
THIN_STYLE = "italic"
UNITS: dict[str, str] = {"edge": "vol pts", "pnl": "% of spot"}


def with_thin(text: str, thin: bool) -> str:
    return f"{text}{THIN_MARK}" if thin else text


@dataclass(frozen=True)
class OutcomeTrust:
    """What one underlying's outcomes in a run are: ``label`` ("real outcomes", "model
    outcomes, realism: fail", ...) and ``market``, the underlying as its data names it
    ("ETH (BTC-derived)" on a synthetic run whose ETH model is BTC's)."""

    underlying: str
    market: str
    label: str
    synthetic: bool


def _kind_from_manifest(info: dict) -> str:
    """'real outcomes' / 'model outcomes': the text the engine wrote into the manifest
    (``backtest.heatmaps.outputs.outcome_trust``) up to its colon."""
    text = str(info.get("outcome_trust") or "")
    if text:
        return text.split(":", 1)[0].strip()
    return "model outcomes" if info.get("source") == "synthetic" else "real outcomes"


def light_trust(underlying: str, info: dict | None) -> OutcomeTrust:
    """From the manifest alone (no engine): the kind of outcomes, no realism verdict yet."""
    info = info if isinstance(info, dict) else {}
    return OutcomeTrust(underlying, underlying, _kind_from_manifest(info), info.get("source") == "synthetic")


def outcome_trust(underlying: str, info: dict | None) -> OutcomeTrust:
    """The full label of one underlying of a run (``info``: its manifest entry)."""
    info = info if isinstance(info, dict) else {}
    light = light_trust(underlying, info)
    if not light.synthetic:
        return light
    regimes = str((info.get("provenance") or {}).get("regimes") or "")
    stamp = None
    if regimes and not regimes.startswith("built-in"):
        try:
            stamp = os.stat(regimes).st_mtime_ns
        except OSError:
            return OutcomeTrust(underlying, underlying, "model outcomes, realism: unknown (its regime file is gone)",
                                True)
    market, realism = _model_realism(underlying, regimes, stamp)
    return OutcomeTrust(underlying, market, f"model outcomes, {realism}", True)


@lru_cache(maxsize=32)
def _model_realism(underlying: str, regimes: str, _stamp: int | None) -> tuple[str, str]:
    """(the model's label, 'realism: pass' / 'fail' / 'not judged ...') of the model a run
    names; cached per file version (``_stamp``: its mtime)."""
    from synthetic.regime_model import default_regime_model, load_regime_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a damaged file: the defaults, as the run itself used
        if not regimes or regimes.startswith("built-in"):
            model = default_regime_model(underlying)
        else:
            model = load_regime_model(underlying, Path(regimes))
    return model.label, model_realism(model)


def model_realism(model) -> str:
    """'realism: pass' / 'realism: fail' (the verdict stored when ``model``, a
    ``RegimeModel``, was built) or 'realism: not judged (BTC-derived)' / 'realism: not judged'."""
    from backtest.regimes.realism import verdict_from_provenance

    verdict = verdict_from_provenance(model)
    if verdict is not None:
        return verdict.label.removeprefix("model outcomes, ")
    if model.derived_from:
        return f"realism: not judged ({model.derived_from}-derived)"
    return "realism: not judged"


def trust_by_underlying(results, engine_ready: bool = True) -> dict[str, OutcomeTrust]:
    """Every underlying of a ``StoredSweep``: the full label once the engine is loaded, the
    manifest's kind before."""
    infos = results.manifest.get("underlyings") or {}
    make = outcome_trust if engine_ready else light_trust
    return {u: make(u, infos.get(u)) for u in results.underlyings}
