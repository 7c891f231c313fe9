"""``RegimeModel``: regimes + transition matrix + vol dynamics + provenance, per underlying.

File layout of the regime file (``greg_core.settings.default_regime_file()``, in a checkout
``data/greg_regimes.json``; docs/synthetic.md)::

    {"format": "greg-regimes", "version": 2,
     "underlyings": {"BTC": {"regimes": {"0": {...RegimeParams...}, ...},
                             "transition_matrix": [[...], ...],
                             "dynamics": {...VolDynamics...},
                             "provenance": {...}}}}

Saving one underlying rewrites the file atomically and keeps every other underlying; a file
of an older version is replaced whole (its parameters mean something else, see
docs/synthetic.md), with a warning naming what it held. A file that is missing, unreadable,
not UTF-8 JSON, nested too deeply, of another format or version, or with any field of the
wrong type or out of range (NaN included) never breaks the app: ``load_regime_model`` warns
with one line naming the field and falls back to the built-in defaults, whose
``RegimeModel.source`` says so.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import cached_property
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
from synthetic.volatility import VolDynamics, VolForecaster

FORMAT_NAME = "greg-regimes"
FORMAT_VERSION = 2
# Version 1 models read IV as an AR(1) around the trailing RV (docs/synthetic.md, history).
MAX_FILE_BYTES = 10_000_000


@dataclass
class RegimeModel:
    underlying: str
    regimes: dict[int, RegimeParams]
    transition_matrix: np.ndarray
    provenance: dict = field(default_factory=dict)
    source: str = "built-in defaults"
    dynamics: VolDynamics = field(default_factory=VolDynamics)

    def __post_init__(self) -> None:
        ids = sorted(self.regimes)
        if ids != list(range(len(ids))) or not ids:
            raise ValueError(f"regime ids must be 0..n-1 with n >= 1, got {ids}")
        self.transition_matrix = validate_transition_matrix(self.transition_matrix, len(ids))
        self.dynamics.validate()

    @property
    def n_regimes(self) -> int:
        return len(self.regimes)

    @property
    def derived_from(self) -> str | None:
        """The underlying whose data this model was calibrated on when it is not this one
        (ETH's defaults are BTC-derived): outputs and screens label results with it."""
        value = self.provenance.get("derived_from")
        return str(value) if value else None

    @property
    def label(self) -> str:
        """``BTC`` or ``ETH (BTC-derived)``: how outputs name this model's market."""
        derived = self.derived_from
        return f"{self.underlying} ({derived}-derived)" if derived else self.underlying

    def stationary(self) -> np.ndarray:
        return stationary_distribution(self.transition_matrix)

    def dwell_times(self) -> np.ndarray:
        return mean_dwell_times(self.transition_matrix)

    @cached_property
    def _forecaster(self) -> VolForecaster:
        levels = np.array([self.regimes[k].mu_rv_30d for k in range(self.n_regimes)])
        return VolForecaster(self.dynamics, levels, self.transition_matrix)

    def forecaster(self) -> VolForecaster:
        """The model's expected realized vol (built once per model)."""
        return self._forecaster

    def to_dict(self) -> dict:
        return {
            "regimes": {str(k): v.to_dict() for k, v in sorted(self.regimes.items())},
            "transition_matrix": np.round(self.transition_matrix, 10).tolist(),
            "dynamics": self.dynamics.to_dict(),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, underlying: str, data: dict, source: str) -> RegimeModel:
        """A validated model from one underlying's entry; ``RegimeFileError`` naming the field."""
        where = f"{source}: {underlying}"
        if not isinstance(data, dict):
            raise RegimeFileError(f"{where}: entry must be an object")
        unknown = set(data) - {"regimes", "transition_matrix", "dynamics", "provenance"}
        if unknown:
            raise RegimeFileError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        regimes_data = data.get("regimes")
        if not isinstance(regimes_data, dict) or not regimes_data:
            raise RegimeFileError(f"{where}: 'regimes' must be a non-empty object")
        regimes = {}
        for key, value in regimes_data.items():
            if not (isinstance(key, str) and key.isdigit() and len(key) <= 3):
                raise RegimeFileError(f"{where}: regime id {key!r} is not a small whole number")
            try:
                regimes[int(key)] = RegimeParams.from_dict(value)
            except (TypeError, ValueError) as exc:
                raise RegimeFileError(f"{where}: {exc} (regime {key})") from None
        matrix = _number_matrix(data.get("transition_matrix"), f"{where}: transition_matrix")
        try:
            dynamics = VolDynamics.from_dict(data.get("dynamics"))
        except (TypeError, ValueError) as exc:
            raise RegimeFileError(f"{where}: dynamics: {exc}") from None
        provenance = data.get("provenance", {})
        if not isinstance(provenance, dict):
            raise RegimeFileError(f"{where}: provenance must be an object")
        try:
            return cls(underlying, regimes, matrix, dict(provenance), source, dynamics)
        except ValueError as exc:
            raise RegimeFileError(f"{where}: {exc}") from None


def _number_matrix(value: object, where: str) -> np.ndarray:
    """A square list of lists of finite numbers (booleans are not numbers here)."""
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        raise RegimeFileError(f"{where} must be a list of rows")
    for row in value:
        for cell in row:
            if isinstance(cell, bool) or not isinstance(cell, int | float) or not np.isfinite(cell):
                raise RegimeFileError(f"{where} holds {cell!r}; entries must be finite numbers")
    if len({len(row) for row in value}) != 1:
        raise RegimeFileError(f"{where} rows differ in length")
    return np.asarray(value, dtype=float)


def default_regime_model(underlying: str, reason: str | None = None) -> RegimeModel:
    """The built-in model for ``underlying`` (BTC's for an underlying without its own)."""
    key = underlying.upper() if underlying.upper() in DEFAULT_MODELS else "BTC"
    data = DEFAULT_MODELS[key]
    provenance = dict(data.get("provenance", {}))
    if key != underlying.upper():
        provenance["derived_from"] = provenance.get("derived_from") or key
    source = "built-in defaults" + (f" for {key}" if key != underlying.upper() else "")
    if provenance.get("derived_from"):
        source += f", {provenance['derived_from']}-derived"
    if reason:
        source += f" ({reason})"
    return RegimeModel.from_dict(underlying.upper(), {**data, "provenance": provenance}, source)


def _read_file(path: Path) -> dict:
    """The parsed file, checked down to its list of underlyings; ``RegimeFileError`` else."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RegimeFileError(f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB, not a regime file")
        data = path.read_bytes()
    except OSError as exc:
        raise RegimeFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegimeFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegimeFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise RegimeFileError(f"{path}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal with too many digits
        raise RegimeFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise RegimeFileError(f"{path}: not a greg regimes file (no format '{FORMAT_NAME}')")
    if payload.get("version") != FORMAT_VERSION:
        raise RegimeFileError(
            f"{path}: version {payload.get('version')!r} is not supported (expected {FORMAT_VERSION}; "
            "rebuild with scripts/build_greg_regimes_from_harvester.py)"
        )
    if not isinstance(payload.get("underlyings"), dict):
        raise RegimeFileError(f"{path}: 'underlyings' must be an object")
    return payload


def load_regime_model(underlying: str, path: Path | None = None) -> RegimeModel:
    """The model for ``underlying`` from the regime file, else the built-in defaults.

    Never raises for a bad file: it warns with one line naming the problem (the field, for a
    field of the wrong type or range) and returns the defaults, whose ``source`` says they
    are defaults and why.
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
        warnings.warn(f"{_one_line(str(exc))}; using built-in regimes", stacklevel=2)
        return default_regime_model(underlying, f"{path.name} unusable")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _older_version(path: Path) -> dict | None:
    """The payload of a regime file of an older version (to be replaced), else None."""
    try:
        payload = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        return None
    version = payload.get("version")
    is_older = isinstance(version, int) and not isinstance(version, bool) and version < FORMAT_VERSION
    return payload if is_older else None


def check_save_target(path: Path) -> dict | None:
    """What saving into ``path`` would start from: None (no file, or an older version to be
    replaced) or the current file's payload; ``RegimeFileError`` if it would be refused
    (corrupt, another format, a newer version). Callers check before a long build."""
    if not path.exists() or _older_version(path) is not None:
        return None
    return _read_file(path)


def save_regime_model(model: RegimeModel, path: Path | None = None) -> Path:
    """Write ``model`` into the regime file, keeping the other underlyings, atomically.

    A corrupt file, or one of another format or a newer version, is not silently
    overwritten: it raises ``RegimeFileError``. A file of an older version is replaced, with
    a warning naming the underlyings it held (they need a rebuild).
    """
    path = Path(path) if path is not None else default_regime_file()
    payload = check_save_target(path) or {"format": FORMAT_NAME, "version": FORMAT_VERSION, "underlyings": {}}
    older = _older_version(path) if path.exists() else None
    if older is not None:
        held = older.get("underlyings")
        names = ", ".join(sorted(map(str, held))) if isinstance(held, dict) and held else "nothing"
        warnings.warn(
            f"{path}: version {older.get('version')} regime file replaced by version {FORMAT_VERSION} "
            f"(it held {names}; rebuild the others)",
            stacklevel=2,
        )
    payload["underlyings"][model.underlying.upper()] = model.to_dict()
    write_text_atomic(path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return path
