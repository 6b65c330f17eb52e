"""Text folded for searching: "Zoë Müller" is found by "zoe muller".

PostgreSQL folds with its `unaccent` extension (created by cohorts' migration 0002); SQLite
gets a function of the same name on each connection (`sqlite_unaccent`), so the same SQL
(`unaccent(LOWER(name)) LIKE %s`) runs on both, and the typed text is folded here alike."""

from __future__ import annotations

import unicodedata

# Letters that are not a base letter plus marks, spelled as unaccent spells them.
_SPELLED = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d"})


def unaccent(text: str) -> str:
    """`text` without its accents (marks dropped after canonical decomposition)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def folded(text: str) -> str:
    """How a search compares text: lower case, without accents."""
    return unaccent(text.lower())


def sqlite_unaccent(sender, connection, **kwargs) -> None:
    """`connection_created`: SQLite gets `unaccent(text)`, as PostgreSQL has it."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "unaccent",
            1,
            lambda value: None if value is None else unaccent(value),
            deterministic=True,
        )
