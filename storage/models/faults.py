"""A declared fault and its contract clocks."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Person


class Fault(Base):
    """A declared fault, its tier, the contract's deadlines and what happened against them."""

    __tablename__ = "faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    system: Mapped[str | None] = mapped_column(String(128))
    site_code: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    # the two questions of the contract, as answered at the declaration (None: not asked)
    business_down: Mapped[bool | None] = mapped_column(Boolean)
    data_lost: Mapped[bool | None] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16), index=True)
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    declared_at: Mapped[datetime]
    respond_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    root_cause: Mapped[str | None] = mapped_column(Text)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]

    declared_by: Mapped[Person] = relationship(foreign_keys=[declared_by_id], lazy="joined")
    acknowledged_by: Mapped[Person | None] = relationship(
        foreign_keys=[acknowledged_by_id], lazy="joined"
    )
