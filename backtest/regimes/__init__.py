"""Regime models from real data (docs/synthetic.md): ``builder`` clusters real sensors and fits
a ``synthetic.regime_model.RegimeModel``; ``realism`` measures the synthetic universe against
the real history."""
