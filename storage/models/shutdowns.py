"""A shutdown request (停机申请): the window, what goes down, the approvals it needs and got, and
what was recorded around it."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Person


class Shutdown(Base):
    __tablename__ = "shutdowns"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    site_code: Mapped[str] = mapped_column(String(32))
    systems: Mapped[list[Any]] = mapped_column(JSON)  # the systems named (what they take down
    # with them is read from the organisation file when it is needed)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]  # the window's end, extensions included
    planned_end_at: Mapped[datetime]  # as requested
    extend_to: Mapped[datetime | None]  # an extension asked for, waiting for approval
    reason: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text)
    rollback: Mapped[str] = mapped_column(Text)
    backup: Mapped[str] = mapped_column(String(256))  # where the backup is: a job id, a path
    notify: Mapped[list[Any]] = mapped_column(JSON)  # further people to tell (handles)
    engineer_ids: Mapped[list[Any]] = mapped_column(JSON)  # who works in the window
    link_ref: Mapped[str | None] = mapped_column(String(16))  # a visit (V-) or a fault (F-)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    # the approval chain, fixed when the request is filed: [{"role": …} or {"people": [ids],
    # "system": name}], how many of its steps are done, and who took them
    chain: Mapped[list[Any]] = mapped_column(JSON)
    approved_steps: Mapped[int] = mapped_column(Integer, default=0)
    approver_ids: Mapped[list[Any]] = mapped_column(JSON)
    decision_note: Mapped[str | None] = mapped_column(Text)
    state_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # recorded at its start
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # recorded at completion
    begun_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # the calendar event's revision
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id], lazy="joined")

    @property
    def needed_role(self) -> str | None:
        """The role the decision it waits for needs (None: it names people, or none is due)."""
        step = self.next_step
        return step.get("role") if step else None

    @property
    def needed_people(self) -> list[int]:
        """The people who may take the decision it waits for, when that step names them."""
        step = self.next_step
        return list(step.get("people", [])) if step else []

    @property
    def next_step(self) -> dict[str, Any] | None:
        if self.state == "extension_requested":
            return {"role": "supervisor"}
        if self.state == "requested" and self.approved_steps < len(self.chain):
            return self.chain[self.approved_steps]
        return None
