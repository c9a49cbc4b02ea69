"""Contract suites: each infrastructure port's behaviour, written once and run against every
adapter (the in-memory fake in ``tests/unit``, the real one against a real broker and Redis in
``tests/integration``), in the manner of eventsourcing's ``RecorderTestCase``.

A suite is an abstract class whose abstract fixtures provide the adapter; a concrete
``Test…`` subclass overrides them. (pytest does not collect a class left abstract, so a
subclass that forgets a fixture runs nothing rather than fails: the concrete modules check
their counts.)
"""
