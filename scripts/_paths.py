"""Make the repository importable when a script is run as ``python scripts/x.py``."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def real_data_dir() -> Path:
    """``GREG_REAL_DATA_DIR`` or ``../shared/data/real`` beside the repository."""
    import os

    configured = os.environ.get("GREG_REAL_DATA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data" / "real"
