"""Intake's adapters to Kafka and Redis."""
