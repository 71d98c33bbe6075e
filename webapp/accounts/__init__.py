"""Accounts: registration, log-in, password change, data export and deletion."""
