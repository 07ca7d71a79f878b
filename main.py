"""Every Cloud Function entry point, re-exported from one source tree.

`gcloud functions deploy --entry-point NAME` and `functions-framework --target NAME` both load
this file. Each function lives in `functions/` and joins `ENTRY_POINTS` when it is written.
"""

from functions.reconcile import reconcile
from functions.typeform_webhook import typeform_webhook

ENTRY_POINTS: tuple[str, ...] = ("typeform_webhook", "reconcile")

__all__ = ["ENTRY_POINTS", "reconcile", "typeform_webhook"]
