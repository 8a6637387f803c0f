"""SQLAlchemy 2 typed models, one module per workflow besides the shared tables (``base``).
Every model is imported here, so that the metadata (and Alembic) sees every table."""

from storage.models.attachments import Attachment
from storage.models.base import (
    AuditEntry,
    Base,
    CardResponse,
    Deadline,
    InboundEvent,
    OncallOverride,
    OutboxMessage,
    Person,
    RoleGrant,
    Room,
    Site,
)
from storage.models.faults import Fault
from storage.models.repairs import Repair, RepairPart, RepairStep
from storage.models.shutdowns import Shutdown
from storage.models.visits import Visit

__all__ = [
    "Attachment",
    "AuditEntry",
    "Base",
    "CardResponse",
    "Deadline",
    "Fault",
    "InboundEvent",
    "OncallOverride",
    "OutboxMessage",
    "Person",
    "Repair",
    "RepairPart",
    "RepairStep",
    "RoleGrant",
    "Room",
    "Shutdown",
    "Site",
    "Visit",
]
