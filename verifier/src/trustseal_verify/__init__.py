"""trustseal-verify: check a Trustseal seal from its public, signed evidence alone.

Nothing here imports the platform's code: the Merkle tree, signed-note and status-list checks
are written from their specifications (RFC 9162 §2.1, C2SP signed-note and tlog-checkpoint,
W3C Bitstring Status List), so this package is an independent second implementation.
"""

__version__ = "0.1.0"
