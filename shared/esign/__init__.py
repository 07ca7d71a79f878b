"""E-signature: the port (send an envelope, find it again, its status, a reminder) and its DocuSign
adapter with its two ways to authenticate (JWT grant in production, a static token locally)."""
