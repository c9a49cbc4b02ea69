"""Tests of the in-browser fingerprinting engine (services/intake/web/fingerprint/)."""
