"""Typeform's webhook payload (`form_response` events) as typed models.

Only what binome reads is declared; other keys are accepted and ignored, since Typeform adds
keys over time. Answers carry one value key named after their type.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AnswerField(_Model):
    id: str
    type: str
    ref: str | None = None


class Choice(_Model):
    id: str | None = None
    label: str | None = None
    ref: str | None = None
    other: str | None = None


class Choices(_Model):
    ids: list[str] = []
    labels: list[str] = []
    refs: list[str] = []
    other: str | None = None


class Answer(_Model):
    type: str
    field: AnswerField
    text: str | None = None
    email: str | None = None
    phone_number: str | None = None
    url: str | None = None
    file_url: str | None = None
    number: float | None = None
    boolean: bool | None = None
    date: str | None = None
    choice: Choice | None = None
    choices: Choices | None = None

    def value(self) -> Any:
        """The answer's value, whatever its type (labels for choices)."""
        if self.type == "choice" and self.choice is not None:
            return self.choice.label if self.choice.label is not None else self.choice.other
        if self.type == "choices" and self.choices is not None:
            return self.choices.labels + ([self.choices.other] if self.choices.other else [])
        return getattr(self, self.type, None)


class FormResponse(_Model):
    form_id: str
    token: str
    submitted_at: dt.datetime
    landed_at: dt.datetime | None = None
    hidden: dict[str, Any] = {}
    answers: list[Answer] = []


class WebhookPayload(_Model):
    event_id: str
    event_type: str
    form_response: FormResponse
