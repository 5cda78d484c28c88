"""Per-issuer Merkle transparency logs over the public, redacted form of seal events."""
