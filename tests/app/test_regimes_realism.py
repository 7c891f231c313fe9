"""The regimes screen names the model's market (ETH derived from BTC), its stored forward-
realism verdict and what outcomes on it are labelled, and its vol dynamics."""

from __future__ import annotations

from textual.widgets import Static

from backtest.regimes.realism import verdict_from_provenance
from greg_tui.screens.regimes import RegimesScreen
from synthetic.regime_model import load_regime_model
from tests.app.support import make_app, static_text


async def test_regimes_show_realism_dynamics_and_the_derived_market(tmp_path):
    app = make_app(tmp_path, data_dir=tmp_path / "empty")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RegimesScreen)
        for underlying in ("BTC", "ETH"):
            if screen.underlying != underlying:
                await pilot.press("u")
                await pilot.pause()
            model = load_regime_model(underlying, app.regime_file)
            head = " ".join(static_text(screen.query_one("#regime-head", Static), 78).split())
            realism = " ".join(static_text(screen.query_one("#regime-realism", Static), 78).split())
            verdict = verdict_from_provenance(model)
            assert f"Regimes for {model.label}:" in head
            if verdict is not None:
                assert verdict.summary() in realism
                assert f"'{verdict.label}'" in realism
                assert ("realism: pass" if verdict.passed else "realism: fail") in head
            elif model.derived_from:
                assert f"not judged: {model.label} is {model.derived_from}'s model" in realism
                assert f"realism: not judged ({model.derived_from}-derived)" in head
            else:
                assert "not judged" in realism
            dynamics = model.dynamics
            for words, value in (("persistence", dynamics.persistence), ("vol of vol", dynamics.vol_of_vol),
                                 ("shocks t dof", dynamics.t_dof)):
                assert f"{words} {value:.3g}" in realism
        assert model.derived_from == "BTC" and model.label == "ETH (BTC-derived)"  # ETH's default model


def test_the_regimes_screen_lists_every_vol_dynamics_figure():
    """A field added to the model's dynamics shows on the screen (it once lagged three)."""
    from dataclasses import fields

    from greg_tui.widgets.regimes.render import DYNAMICS_FIELDS
    from synthetic.volatility import VolDynamics

    shown = {name for name, _ in DYNAMICS_FIELDS}
    assert shown == {f.name for f in fields(VolDynamics) if f.name != "fitted"}
