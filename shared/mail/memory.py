"""A mailer that keeps what it sends, for tests of our own code: the message has gone through the
same rendering as a real one; failures can be scheduled to try every path."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from shared.mail.message import Email, MailError


@dataclass
class InMemoryMailer:
    outbox: list[Email] = field(default_factory=list)
    failures: list[MailError | None] = field(default_factory=list)  # one per coming send; None: succeed
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, email: Email) -> str:
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.outbox.append(email)
        return f"memory-{next(self._ids)}"
