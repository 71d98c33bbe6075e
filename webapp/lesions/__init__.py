"""Tracked lesions: the same spot photographed over time, and whether it changed."""
