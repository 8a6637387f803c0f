"""Helpers for the attachment tests: a source of bytes (the seam a platform's download fills),
the files directory's contents, and the rows and audit entries attachments leave."""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from handlers.attachments import Fetched, Incoming, TooLarge, Unavailable
from handlers.context import Origin
from handlers.messages import plain_text
from storage.models import Attachment, AuditEntry

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # 1 KB and a bit


@dataclass
class Bytes:
    """A file's bytes as a platform serves them; counts the downloads."""

    data: bytes
    mime: str | None = None
    name: str | None = None
    fail: bool = False
    reads: list[int] = field(default_factory=list)

    def read(self, limit: int) -> Fetched:
        self.reads.append(limit)
        if self.fail:
            raise Unavailable("gone")
        if len(self.data) > limit:
            raise TooLarge(len(self.data))
        return Fetched(self.data, self.mime, self.name)


def incoming(data=PNG, name="rack.png", mime="image/png", *, size=None, card=None, caption="",
             file_id="F1", served=None, fail=False) -> tuple[Incoming, Bytes]:  # fmt: skip
    """A file as a platform declares it (``served``: the type its download says)."""
    src = Bytes(data, served, fail=fail)
    return Incoming(file_id, src, name, mime, size, card, caption), src


def send(chat, who: str, data=PNG, name="rack.png", **kw) -> tuple[str, Bytes]:
    """``who`` sends a file to the bot (the console stands in for a platform): the answer."""
    file, source = incoming(data, name, **kw)
    answer = chat.core.attach(Origin("console", who), file)
    return "\n".join(plain_text(m) for m in answer), source


def rows(chat) -> list[Attachment]:
    with chat.core.db.unit_of_work() as session:
        found = list(session.scalars(select(Attachment).order_by(Attachment.id)))
        session.expunge_all()
        return found


def attach_audit(chat) -> list[AuditEntry]:
    with chat.core.db.unit_of_work() as session:
        query = select(AuditEntry).where(AuditEntry.action.like("%.attach%"))
        found = list(session.scalars(query.order_by(AuditEntry.id)))
        session.expunge_all()
        return found


def stored(directory: Path) -> list[Path]:
    """Every file in the files directory (no temporary left behind either)."""
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
