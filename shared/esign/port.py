"""What binome asks of an e-signature service, and what can go wrong.

Every envelope carries a reference (`<record id>:<kind>`) in a custom field, so an envelope whose
creation answer was lost is found again instead of created twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from shared.errors import BinomeError

REFERENCE_FIELD = "binome"
BASE_FIELD = "binome_base"  # with several bases: the key of the base the envelope's record is in


@dataclass(frozen=True)
class EnvelopeRequest:
    reference: str  # "<record id>:<kind>", stored in the envelope's custom field
    template: str
    role: str
    name: str
    email: str
    subject: str
    tabs: dict[str, str] = field(default_factory=dict)  # text tabs prefilled, by tab label


@dataclass(frozen=True)
class FoundEnvelope:
    envelope_id: str
    status: str  # DocuSign's: sent, delivered, completed, declined, voided…


class ESignError(BinomeError):
    """The e-signature service did not do what was asked."""


class ESignRefused(ESignError):
    """The request itself was refused (4xx): sending it again as it is will not help."""


class ESignUnavailable(ESignError):
    """The service could not be reached or is failing: nothing was done, try again later."""


class ESignUncertain(ESignError):
    """No answer came back: the envelope may exist; look it up by its reference."""


class ConsentRequired(ESignUnavailable):
    """The impersonated user has not granted consent yet: a person must open `url` once."""

    def __init__(self, url: str):
        super().__init__(f"Consentement DocuSign à donner une fois, en ouvrant : {url}")
        self.url = url


class ESign(Protocol):
    def send(self, request: EnvelopeRequest) -> str:
        """Create and send the envelope; its id."""
        ...

    def find(self, reference: str, since: dt.datetime) -> FoundEnvelope | None:
        """The envelope created since `since` with this reference, if there is one."""
        ...

    def status(self, envelope_id: str) -> str:
        ...

    def remind(self, envelope_id: str) -> None:
        """Send the signer the envelope's notification again."""
        ...
