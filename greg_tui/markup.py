"""Escaping user-supplied text (file names, error messages, typed values) for Textual markup.

``rich.markup.escape`` only escapes bracket sequences that look like tags; Textual's parser
also trips on a lone ``[`` (typing ``[b`` into a field crashed the status strip). Escaping
every ``[`` keeps any text literal, backslashes included.
"""

from __future__ import annotations


def escape(text: object) -> str:
    return str(text).replace("[", "\\[")
