"""Files attached to a subject (a repair, later a fault or an inspection): the bytes are kept in
the files directory (``path`` is relative to it), named and checked by their SHA-256, so that a
platform's media id that expires (WeCom's, after three days) loses nothing."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Person


class Attachment(Base):
    __tablename__ = "attachments"
    # the same bytes once per subject, however often they are sent (retries, a second share)
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512))  # relative to the files directory
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_label: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
    platform: Mapped[str] = mapped_column(String(16))
    platform_file_id: Mapped[str | None] = mapped_column(String(255))

    person: Mapped[Person | None] = relationship(lazy="joined")
