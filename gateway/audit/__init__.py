"""The tamper-evident audit trail: every decision as a hash-chained record, signed checkpoints.

``AuditLog`` writes (the proxy and the CLI call ``append``); ``export``/``verify`` serve auditors;
``retention.purge`` removes old records behind a signed anchor. docs/audit.md describes the formats
byte for byte.
"""

from gateway.audit.checkpoint import AuditSigner, load_public_keys
from gateway.audit.export import ExportFilter, export
from gateway.audit.log import AuditLog
from gateway.audit.record import GENESIS, AuditEvent, canonical_json, record_hash
from gateway.audit.retention import purge
from gateway.audit.verify import Report, verify_export, verify_store

__all__ = [
    "GENESIS",
    "AuditEvent",
    "AuditLog",
    "AuditSigner",
    "ExportFilter",
    "Report",
    "canonical_json",
    "export",
    "load_public_keys",
    "purge",
    "record_hash",
    "verify_export",
    "verify_store",
]
