"""Matcher: platforms check uploads against the hash list; matches and actions are reported."""
