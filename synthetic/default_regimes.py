"""Built-in regime models, used when the regime file is absent or unusable (docs/synthetic.md).

BTC: ``synthetic.btc_model.BTC_MODEL``, the BTC entry of ``data/greg_regimes.json`` copied
verbatim by ``scripts/write_default_regimes.py`` (its docstring says when and from what it
was built, and its realism verdict). Rebuild both after a model change.

ETH: the real history the models are built from has no ETH series, so there was no ETH data
to calibrate on and ETH is BTC-derived (``RegimeModel.derived_from``; outputs and screens say
so): BTC's model with every regime's vol level and IV noise x ``ETH_VOL_RATIO`` (1.2). The
ratio is the middle (1.175, rounded) of the 0.95-1.4 range that ETH DVOL / BTC DVOL spanned
in 2023 (1.1-1.4 before the Shanghai upgrade, 0.95-1.15 after it: blog.redot.com, "Is
Ethereum safer than Bitcoin?", 2023; BTC's DVOL above ETH's for 20 days running: CoinDesk,
2023-09-27). Once ETH history is imported or harvested,
``build_greg_regimes_from_harvester.py --underlying ETH`` calibrates ETH like BTC.
"""

from __future__ import annotations

from synthetic.btc_model import BTC_MODEL

ETH_VOL_RATIO = 1.2
ETH_VOL_RATIO_SOURCE = (
    "middle (1.175, rounded) of the 0.95-1.4 range of ETH DVOL / BTC DVOL in 2023 (blog.redot.com 2023; CoinDesk 2023-09-27)"
)


def _btc_derived(model: dict, ratio: float) -> dict:
    """BTC's model with vol levels and IV noise scaled by ``ratio``, labelled BTC-derived."""
    regimes = {
        key: {**params, "mu_rv_30d": params["mu_rv_30d"] * ratio,
              "iv_level_sigma": params["iv_level_sigma"] * ratio}
        for key, params in model["regimes"].items()
    }
    provenance = {
        "source": f"BTC built-in model with vol levels and IV noise x{ratio:g}",
        "derived_from": "BTC",
        "vol_ratio": ratio,
        "vol_ratio_source": ETH_VOL_RATIO_SOURCE,
    }
    return {**model, "regimes": regimes, "provenance": provenance}


DEFAULT_MODELS: dict[str, dict] = {
    "BTC": BTC_MODEL,
    "ETH": _btc_derived(BTC_MODEL, ETH_VOL_RATIO),
}
