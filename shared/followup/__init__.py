"""Following binômes once formed: their lifecycle, check-ins, nudges and alerts."""
