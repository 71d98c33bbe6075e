"""Sharing one tracked spot with a doctor: a read-only link that expires and can be revoked."""
