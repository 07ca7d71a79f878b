"""Email: what a message is, the port that sends it (SendGrid, or in memory), and its templates."""
