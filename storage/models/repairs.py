"""A repair record (维修记录, document 000 §4–§8) or a planned maintenance (document 001): the
system, who works on it, what it answers (a fault, a visit or a shutdown), its steps by phase,
the parts replaced, the test checklist, the readings before and after, the business owner's
verification, the maintenance report archived at completion, and the follow-up."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Person


class Repair(Base):
    __tablename__ = "repairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # repair | maintenance
    system: Mapped[str] = mapped_column(String(128))  # as the organisation file spells it
    system_type: Mapped[str | None] = mapped_column(String(64))  # its checklist and parts list
    site_code: Mapped[str | None] = mapped_column(String(32))
    task: Mapped[str | None] = mapped_column(Text)
    link_ref: Mapped[str | None] = mapped_column(String(16), index=True)  # F-, V- or S-
    started_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    engineer_ids: Mapped[list[Any]] = mapped_column(JSON)
    owner_ids: Mapped[list[Any]] = mapped_column(JSON)  # the business owners who verify
    # the test checklist, fixed at the start: its items in order, and each answer given
    # {item: {"result": pass|fail|na, "note", "by", "at"}}
    checklist_items: Mapped[list[Any]] = mapped_column(JSON)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON)
    state_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the owner's answer
    override: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # completed with items open
    lessons: Mapped[list[Any]] = mapped_column(JSON)  # [{"text", "by", "at"}]
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # archived: {locale: markdown}
    # what the archived report was written from, {locale: {…}}: the PDF is drawn from it
    report_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    followup_due_at: Mapped[datetime | None]
    stable_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    started_by: Mapped[Person] = relationship(foreign_keys=[started_by_id], lazy="joined")
    steps: Mapped[list["RepairStep"]] = relationship(
        order_by="RepairStep.id", lazy="selectin", viewonly=True
    )
    parts: Mapped[list["RepairPart"]] = relationship(
        order_by="RepairPart.id", lazy="selectin", viewonly=True
    )


class RepairStep(Base):
    """One step of a repair, in a phase: never edited (a correction is a new step naming the
    one it corrects)."""

    __tablename__ = "repair_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within its repair
    phase: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    corrects: Mapped[int | None] = mapped_column(Integer)  # the number of the step it corrects
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime]

    author: Mapped[Person] = relationship(lazy="joined")


class RepairPart(Base):
    """A part replaced: its model, the serials out and in, how many, and whether the model is on
    the organisation's list of specified spare parts for the system's type."""

    __tablename__ = "repair_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id"), index=True)
    model: Mapped[str] = mapped_column(String(128))
    old_serial: Mapped[str | None] = mapped_column(String(128))
    new_serial: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    listed: Mapped[bool | None] = mapped_column(Boolean)  # None: no list for the system's type
    note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime]

    author: Mapped[Person] = relationship(lazy="joined")
