"""Haven's audit log core: an RFC 9162 Merkle log with C2SP signed checkpoints.

Pure logic plus file storage; no FastAPI, Kafka or Redis. The audit service wraps
``AuditLog``; overseers run ``python -m services.audit.log.verify`` on a copy of the
log directory. Modules: ``merkle`` (tree, proofs), ``note`` / ``checkpoint`` (signed
tree heads), ``entry`` (canonical leaf bytes), ``records`` / ``storage`` (durable
append-only files), ``tlog`` (the facade), ``verify`` (offline audit), ``keys``
(key generation).
"""

from services.audit.log.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from services.audit.log.entry import Entry, EntryError
from services.audit.log.merkle import MerkleTree, verify_consistency, verify_inclusion
from services.audit.log.note import Signer, Verifier
from services.audit.log.storage import CorruptLogError, LogLockedError, TopicPartition
from services.audit.log.tlog import AuditLog
from services.audit.log.verify import Report, verify_log

__all__ = [
    "AuditLog",
    "Checkpoint",
    "CheckpointError",
    "CorruptLogError",
    "Entry",
    "EntryError",
    "LogLockedError",
    "MerkleTree",
    "Report",
    "Signer",
    "TopicPartition",
    "Verifier",
    "open_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
