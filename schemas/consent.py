"""The consent a volunteer gives on the sign-up form: its exact wording and the version derived
from it, in one place.

The version is a digest of the sentence itself, so changing a single character of the wording
changes the version recorded with every later consent: nobody has to remember to bump it, and a
record always says which sentence its person agreed to.
"""

from __future__ import annotations

import hashlib

CONSENT_TEXT = "J'accepte que mes données servent à organiser l'accompagnement"


def version_of(text: str) -> str:
    """« c-<10 hex> »: short enough to read in a column, long enough never to collide in practice."""
    return "c-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


CONSENT_VERSION = version_of(CONSENT_TEXT)
