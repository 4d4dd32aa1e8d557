"""Accounts and sign-in: argon2id passwords, TOTP with recovery codes, per-account throttling,
API tokens. Pure services over the database; the web views live in grievance.web.auth."""
