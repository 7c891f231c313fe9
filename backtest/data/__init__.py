"""Raw market data (docs/data-sources.md): readers that turn files into the raw contract.

``layout`` (where files live), ``parsing`` (shared timestamp/number checks), ``csv_history``
(daily bars + daily IV), ``chain`` (harvested option-chain snapshots), ``vol_history`` (hourly
DVOL) and ``real_frame`` (every real source merged into one frame with provenance).
"""
