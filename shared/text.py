"""Text folding for comparisons people expect to be loose: accents, case, punctuation."""

from __future__ import annotations

import re
import unicodedata

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
# Words that say what kind of structure it is rather than which one.
STRUCTURE_WORDS = {"college", "lycee", "lycees", "lp", "lgt", "ecole", "association", "asso", "de", "du", "des",
                   "la", "le", "les", "l", "d", "et", "general", "technologique", "professionnel", "polyvalent",
                   "prive", "public"}


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


def structure_key(name: str) -> str:
    """The part of a structure's name that identifies it: « Collège Jean-Moulin » → « jean moulin »."""
    return " ".join(word for word in fold(name).split() if word not in STRUCTURE_WORDS)
