"""Every Cloud Function entry point, re-exported from one source tree.

`gcloud functions deploy --entry-point NAME` and `functions-framework --target NAME` both load
this file. Each function lives in `functions/` and joins `ENTRY_POINTS` when it is written.
"""

from functions.choose_mentor import choose_mentor
from functions.docusign_connect import docusign_connect
from functions.first_contact import first_contact
from functions.follow_up import follow_up
from functions.intake_writer import intake_writer
from functions.reconcile import reconcile
from functions.retention import retention
from functions.sendgrid_events import sendgrid_events
from functions.suggest_mentors import suggest_mentors
from functions.typeform_webhook import typeform_webhook

ENTRY_POINTS: tuple[str, ...] = ("typeform_webhook", "reconcile", "docusign_connect", "sendgrid_events",
                                  "suggest_mentors", "choose_mentor", "follow_up", "first_contact", "retention",
                                  "intake_writer")

__all__ = ["ENTRY_POINTS", "choose_mentor", "docusign_connect", "first_contact", "follow_up", "intake_writer",
           "reconcile",
           "retention", "sendgrid_events", "suggest_mentors", "typeform_webhook"]
