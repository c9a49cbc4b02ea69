"""Audit's HTTP routes."""
