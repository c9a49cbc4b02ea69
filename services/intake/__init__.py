"""Intake: the public API submitters (and their browsers) talk to, and the fingerprinting page."""
