"""Haven audit log core: Merkle tree, signed checkpoints, durable storage, verifier."""
