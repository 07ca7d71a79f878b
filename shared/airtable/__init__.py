"""Access to the Airtable base (see `gateway`)."""

from shared.airtable.gateway import (AirtableError, AirtableGateway, AirtableRejected,
                                     AirtableUnavailable, SyncOutcome, UpsertOutcome)

__all__ = ["AirtableError", "AirtableGateway", "AirtableRejected", "AirtableUnavailable",
           "SyncOutcome", "UpsertOutcome"]
