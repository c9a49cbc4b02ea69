"""Matcher's HTTP routes."""
