"""``RegimeModel``: regimes + transition matrix + provenance, persisted per underlying.

File layout of the regime file (``greg_core.settings.default_regime_file()``, in a checkout
``data/greg_regimes.json``; docs/synthetic.md)::

    {"format": "greg-regimes", "version": 1,
     "underlyings": {"BTC": {"regimes": {"0": {...RegimeParams...}, ...},
                             "transition_matrix": [[...], ...],
                             "provenance": {...}}}}

Saving one underlying rewrites the file atomically and keeps every other underlying. A file
that is missing, corrupt or of another version never breaks the app: ``load_regime_model``
falls back to the built-in defaults and says why in ``RegimeModel.source`` and a warning.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from greg_core.atomic_io import write_text_atomic
from greg_core.errors import RegimeFileError
from greg_core.settings import default_regime_file
from synthetic.default_regimes import DEFAULT_MODELS
from synthetic.regimes import (
    RegimeParams,
    mean_dwell_times,
    stationary_distribution,
    validate_transition_matrix,
)

FORMAT_NAME = "greg-regimes"
FORMAT_VERSION = 1


@dataclass
class RegimeModel:
    underlying: str
    regimes: dict[int, RegimeParams]
    transition_matrix: np.ndarray
    provenance: dict = field(default_factory=dict)
    source: str = "built-in defaults"

    def __post_init__(self) -> None:
        ids = sorted(self.regimes)
        if ids != list(range(len(ids))):
            raise ValueError(f"regime ids must be 0..{len(ids) - 1}, got {ids}")
        self.transition_matrix = validate_transition_matrix(self.transition_matrix, len(ids))

    @property
    def n_regimes(self) -> int:
        return len(self.regimes)

    def stationary(self) -> np.ndarray:
        return stationary_distribution(self.transition_matrix)

    def dwell_times(self) -> np.ndarray:
        return mean_dwell_times(self.transition_matrix)

    def to_dict(self) -> dict:
        return {
            "regimes": {str(k): v.to_dict() for k, v in sorted(self.regimes.items())},
            "transition_matrix": np.round(self.transition_matrix, 10).tolist(),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, underlying: str, data: dict, source: str) -> RegimeModel:
        try:
            regimes = {int(k): RegimeParams.from_dict(v) for k, v in data["regimes"].items()}
            return cls(
                underlying=underlying,
                regimes=regimes,
                transition_matrix=np.asarray(data["transition_matrix"], dtype=float),
                provenance=dict(data.get("provenance", {})),
                source=source,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise RegimeFileError(f"{source}: {underlying}: {exc}") from None


def default_regime_model(underlying: str, reason: str | None = None) -> RegimeModel:
    """The built-in model for ``underlying`` (BTC's for an underlying without its own)."""
    key = underlying.upper() if underlying.upper() in DEFAULT_MODELS else "BTC"
    data = DEFAULT_MODELS[key]
    source = "built-in defaults" + (f" for {key}" if key != underlying.upper() else "")
    if reason:
        source += f" ({reason})"
    model = RegimeModel.from_dict(underlying.upper(), data, source)
    return model


def _read_file(path: Path) -> dict:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RegimeFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise RegimeFileError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise RegimeFileError(f"{path}: not a greg regimes file (no format '{FORMAT_NAME}')")
    if payload.get("version") != FORMAT_VERSION:
        raise RegimeFileError(
            f"{path}: version {payload.get('version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    if not isinstance(payload.get("underlyings"), dict):
        raise RegimeFileError(f"{path}: 'underlyings' must be an object")
    return payload


def load_regime_model(underlying: str, path: Path | None = None) -> RegimeModel:
    """The model for ``underlying`` from the regime file, else the built-in defaults.

    Never raises for a bad file: it warns with the reason and returns the defaults, whose
    ``source`` says they are defaults and why.
    """
    path = Path(path) if path is not None else default_regime_file()
    underlying = underlying.upper()
    if not path.exists():
        return default_regime_model(underlying)
    try:
        payload = _read_file(path)
        entry = payload["underlyings"].get(underlying)
        if entry is None:
            return default_regime_model(underlying, f"{path.name} has no {underlying}")
        return RegimeModel.from_dict(underlying, entry, str(path))
    except RegimeFileError as exc:
        warnings.warn(f"{exc}; using built-in regimes", stacklevel=2)
        return default_regime_model(underlying, f"{path.name} unusable")


def save_regime_model(model: RegimeModel, path: Path | None = None) -> Path:
    """Write ``model`` into the regime file, keeping the other underlyings, atomically.

    A corrupt existing file is not silently overwritten: it raises ``RegimeFileError``.
    """
    path = Path(path) if path is not None else default_regime_file()
    payload = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "underlyings": {}}
    if path.exists():
        payload = _read_file(path)
    payload["underlyings"][model.underlying.upper()] = model.to_dict()
    write_text_atomic(path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return path
