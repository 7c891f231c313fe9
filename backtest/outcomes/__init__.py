"""What happened after each sample (docs/outcomes.md): forward outcomes computed from the
future path only, never fed back into sensors, decisions, regimes or bins.

``edge`` holds the forward vol edge ``edge_{H}d = iv_30d(t) - RV(t+1..t+H)``.
"""
