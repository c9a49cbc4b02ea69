"""Distributor: the canonical hash list, the platform registry and the delivery channels."""
