"""Diagnoses: upload a photo, call the service, show (and for logged-in users keep) the result."""
