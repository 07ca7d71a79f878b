"""An email to one person, the mailer port, and what can go wrong with a send.

The three failures are three different truths: `MailRefused` (the vendor said no: this message as
it is will not go), `MailUnavailable` (nothing was sent: try again later) and `MailUncertain` (the
request left and no answer came back: it may have been sent, so it must not be sent again blindly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shared.errors import BinomeError


@dataclass(frozen=True)
class Inline:
    """A file shown inside the HTML body, where it says `<img src="cid:{content_id}">`."""

    content_id: str
    filename: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class Email:
    to: str
    to_name: str
    subject: str
    html: str
    text: str
    custom_args: dict[str, str] = field(default_factory=dict)  # copied by SendGrid onto every event
    category: str = ""
    inline: tuple[Inline, ...] = ()


class MailError(BinomeError):
    """A send that did not go through as asked."""


class MailRefused(MailError):
    """The vendor refused this message (4xx): sending it again as it is will not help."""


class MailUnavailable(MailError):
    """The vendor could not take the message (5xx, 429, no connection): nothing was sent."""


class MailUncertain(MailError):
    """The request left but no answer came back (timeout, reset): it may have been sent."""


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send `email`; the vendor's message id."""
        ...
