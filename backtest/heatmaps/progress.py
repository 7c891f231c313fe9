"""The progress messages of the publish step, defined once (docs/app.md "Cancelling").

``store.publish_run`` sends ``PUBLISHING`` just before it switches the results into place and
``wrote_files`` once they are there; from the first of them on, cancelling is too late (the
run finishes by itself). The app asks ``is_publishing`` instead of matching text of its own.
This module imports nothing, so the app can read it before the engine is loaded.
"""

from __future__ import annotations

PUBLISHING = "moving results into place"
_WROTE = "wrote "


def wrote_files(n_files: int, n_sweet_spots: int) -> str:
    return f"{_WROTE}{n_files} files, {n_sweet_spots} sweet spots"


def is_publishing(message: str) -> bool:
    """Whether ``message`` comes from the publish step (too late to cancel)."""
    return message == PUBLISHING or message.startswith(_WROTE)
