"""What the functions tell about themselves: Cloud Logging's JSON lines, one summary line per
request, and the redaction that keeps emails and phone numbers out of every log record."""
