"""Audit: the append-only, tamper-evident log of everything Haven does."""
