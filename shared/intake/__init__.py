"""Intake: Typeform submissions into the base, de-duplicated, journaled, nothing lost."""
