"""Runtime plumbing shared by every service: settings, Kafka, Redis, metrics, health, logging.

No business logic lives here.
"""
