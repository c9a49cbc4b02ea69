"""The distributor's pure logic: no FastAPI, Kafka or Redis imports.

- ``registry``: the hash registry (submissions → hash-list entries, refcounts, sequences);
- ``view``: the ordered view of the hash list every channel pages through;
- ``feed``: the pull feed's opaque cursor;
- ``webhooks``: webhook signing and the retry policy;
- ``platforms``: what a platform is and how it may change.
"""
