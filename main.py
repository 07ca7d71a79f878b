"""Every Cloud Function entry point, re-exported from one source tree.

`gcloud functions deploy --entry-point NAME` and `functions-framework --target NAME` both load
this file. Each function lives in `functions/` and joins `ENTRY_POINTS` when it is written.
"""

ENTRY_POINTS: tuple[str, ...] = ()
