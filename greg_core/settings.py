"""Where greg-tui reads and writes: one rule for every folder (docs/architecture.md).

Each folder is chosen in this order: the explicit argument (``--data-dir``, ``--base-dir``),
else an environment variable, else, when greg-tui runs from a checkout of its repository,
the checkout's own folders, else (installed as a tool with ``uv tool install`` or pipx) the
user's data folder from ``platformdirs``.

| what | argument | environment | checkout | installed |
|---|---|---|---|---|
| real data | ``--data-dir`` | ``GREG_DATA_DIR`` | ``<repo>/data`` | ``<user data>/data`` |
| results base | ``--base-dir`` | ``GREG_BASE_DIR`` | ``<repo>`` | ``<user data>`` |
| regime file | (app/scripts) | ``GREG_REGIME_FILE`` | ``<repo>/data/greg_regimes.json`` | ``<user data>/greg_regimes.json`` |

Results are written to ``<base>/backtest/output/`` (the requests' layout).
``greg-tui --where`` prints the folders in use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "greg-tui"
DATA_DIR_ENV = "GREG_DATA_DIR"
BASE_DIR_ENV = "GREG_BASE_DIR"
REGIME_FILE_ENV = "GREG_REGIME_FILE"
REGIME_FILE_NAME = "greg_regimes.json"

# The folder holding greg_core/, backtest/, synthetic/ and greg_tui/.
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def checkout_root() -> Path | None:
    """The repository checkout greg-tui runs from, or None when it is installed as a tool."""
    marker = PACKAGE_ROOT / "pyproject.toml"
    try:
        if marker.is_file() and 'name = "greg-tui"' in marker.read_text(encoding="utf-8"):
            return PACKAGE_ROOT
    except OSError:
        pass
    return None


def user_data_root() -> Path:
    """The per-user folder of an installed greg-tui (e.g. ~/.local/share/greg-tui)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def default_data_dir() -> Path:
    """Real data: ``$GREG_DATA_DIR``, else ``<repo>/data``, else ``<user data>/data``."""
    root = checkout_root()
    return _from_env(DATA_DIR_ENV) or (root / "data" if root else user_data_root() / "data")


def default_base_dir() -> Path:
    """Results base: ``$GREG_BASE_DIR``, else the checkout, else the user data folder."""
    return _from_env(BASE_DIR_ENV) or checkout_root() or user_data_root()


def default_regime_file() -> Path:
    """The regime file: ``$GREG_REGIME_FILE``, else ``<repo>/data/...``, else user data."""
    root = checkout_root()
    fallback = root / "data" / REGIME_FILE_NAME if root else user_data_root() / REGIME_FILE_NAME
    return _from_env(REGIME_FILE_ENV) or fallback


def output_dir_for(base_dir: Path) -> Path:
    """Where a sweep writes: ``<base_dir>/backtest/output`` (the requests' layout)."""
    return Path(base_dir) / "backtest" / "output"


@dataclass(frozen=True)
class Folders:
    """The folders one run uses, after applying the rule above to its arguments."""

    data_dir: Path
    base_dir: Path
    regime_file: Path

    @classmethod
    def resolve(
        cls, data_dir: Path | None = None, base_dir: Path | None = None, regime_file: Path | None = None
    ) -> Folders:
        return cls(
            data_dir=Path(data_dir) if data_dir is not None else default_data_dir(),
            base_dir=Path(base_dir) if base_dir is not None else default_base_dir(),
            regime_file=Path(regime_file) if regime_file is not None else default_regime_file(),
        )

    @property
    def output_dir(self) -> Path:
        return output_dir_for(self.base_dir)

    def describe(self) -> str:
        """What ``greg-tui --where`` prints."""
        root = checkout_root()
        mode = f"checkout {root}" if root else f"installed (user data in {user_data_root()})"
        return "\n".join(
            [
                f"running from: {mode}",
                f"data folder:  {self.data_dir}  (--data-dir, ${DATA_DIR_ENV})",
                f"results:      {self.output_dir}  (--base-dir, ${BASE_DIR_ENV})",
                f"regime file:  {self.regime_file}  (${REGIME_FILE_ENV})",
            ]
        )
