"""Haven's contract: the events services exchange over Kafka, their signal types, and topics.

Services import this package and ``services.common``, never each other.
"""
