"""The root of every error the library raises on purpose, so a caller can catch binome's own
failures without catching programming errors."""


class BinomeError(Exception):
    """Something binome could not do; the message says what, in words a person can act on."""
