"""Airtable's error answers, in the three body shapes it uses."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body

    @classmethod
    def typed(cls, status: int, error_type: str, message: str) -> "ApiError":
        """The usual shape: `{"error": {"type": …, "message": …}}`."""
        return cls(status, {"error": {"type": error_type, "message": message}})

    @classmethod
    def not_found(cls) -> "ApiError":
        """Unknown routes and records: a bare string."""
        return cls(404, {"error": "NOT_FOUND"})

    @classmethod
    def rate_limited(cls) -> "ApiError":
        """429s come as a list under `errors`."""
        return cls(429, {"errors": [{"error": "RATE_LIMIT_REACHED",
                                     "message": "Rate limit exceeded. Please try again later"}]})


def unknown_field(name: str) -> ApiError:
    return ApiError.typed(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_request(message: str) -> ApiError:
    return ApiError.typed(422, "INVALID_REQUEST_UNKNOWN", message)


def model_not_found() -> ApiError:
    return ApiError.typed(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                          "Invalid permissions, or the requested model was not found. Check that both "
                          "your user and your token have the required permissions, and that the model names "
                          "and/or ids are correct.")
