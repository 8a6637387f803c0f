"""A file sent to the bot becomes an attachment: routed to its row (``routes``), checked before
it is downloaded (the row takes files now, the sender may attach, the type and size the
platform declares), downloaded outside any transaction, checked again (the real size and type),
written to the files directory and recorded — the row, its audit entry and the card rewritten —
in one transaction. A refusal stores nothing and records nothing."""

import hashlib
import logging
import uuid
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from handlers import display, kit, people
from handlers.attachments import Incoming, TooLarge, Unavailable
from handlers.attachments.files import FileRules, display_size, guessed_name, safe_name
from handlers.attachments.routes import Attachable, load, route
from handlers.context import Context, Origin
from handlers.errors import UserError
from handlers.messages import Message, Text
from handlers.refs import parse_ref
from storage.models import Attachment

log = logging.getLogger(__name__)


def count(ctx: Context, kind: str, ident: int) -> int:
    return ctx.session.scalar(
        select(func.count(Attachment.id)).where(
            Attachment.subject_type == kind, Attachment.subject_id == ident
        )
    )


def listed(ctx: Context, kind: str, ident: int) -> list[Attachment]:
    return list(
        ctx.session.scalars(
            select(Attachment)
            .where(Attachment.subject_type == kind, Attachment.subject_id == ident)
            .order_by(Attachment.id)
        )
    )


def attach(core, origin: Origin, incoming: Incoming) -> list[Message]:
    """``core.attach``: the answer to a file sent to the bot. Never raises (as handle_text)."""
    locale = core.i18n.default_locale
    try:
        if core.files is None:
            raise UserError("attach.disabled")
        with core.db.unit_of_work() as session:
            person = people.identify(session, origin)
            if person is None:
                return [core.unknown_user(origin, locale)]
            actor = people.actor_of(person, core.i18n.default_locale)
            locale = actor.locale
            ctx = core.context(session, actor, origin)
            subject = _checked(ctx, core.attachable, core.files, incoming)
        fetched = _download(core.files, incoming)
        with core.db.unit_of_work() as session:
            ctx = core.context(session, actor, origin)
            _record(ctx, core.attachable, core.files, subject, incoming, fetched)
            return ctx.replies
    except UserError as err:
        text = core.i18n.t(locale, err.key, ex=core.examples(), **err.params)
        return [Text(text, tone="warning")]
    except IntegrityError:  # the same bytes attached at the same moment by another delivery
        return [Text(core.i18n.t(locale, "attach.same_again"), tone="info")]
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("attachment failed [%s]: %s from %s", incident, incoming.file_id, origin)
        return [Text(core.i18n.t(locale, "error.internal", incident=incident), tone="danger")]


def _checked(ctx, kinds: Mapping[str, Attachable], rules: FileRules, incoming: Incoming) -> str:
    """The subject, once everything known before the download allows the file."""
    if not kinds:
        raise UserError("attach.disabled")
    subject = route(ctx, kinds, incoming.card, incoming.caption)
    load(ctx, kinds, subject)
    rules.check_size(incoming.size)
    if incoming.name:
        rules.check_type(incoming.name, incoming.mime)
    return subject


def _download(rules: FileRules, incoming: Incoming):
    try:
        fetched = incoming.source.read(rules.max_bytes)
    except TooLarge:
        raise UserError("attach.too_large", size=f"> {display_size(rules.max_bytes)}",
                        limit=display_size(rules.max_bytes)) from None  # fmt: skip
    except Unavailable as err:
        log.warning("file %s could not be downloaded: %s", incoming.file_id, err)
        raise UserError("attach.unavailable") from None
    rules.check_size(len(fetched.data))
    return fetched


def _record(ctx, kinds, rules: FileRules, subject: str, incoming: Incoming, fetched) -> None:
    where, row = load(ctx, kinds, subject, lock=True)  # it may have moved meanwhile
    mime = incoming.mime or fetched.mime or "application/octet-stream"
    name = safe_name(incoming.name or fetched.name or guessed_name(incoming.file_id, mime))
    rules.check_type(name, mime)
    sha256 = hashlib.sha256(fetched.data).hexdigest()
    kind, ident = parse_ref(subject)
    same = ctx.session.scalar(
        select(Attachment).where(
            Attachment.subject_type == kind,
            Attachment.subject_id == ident,
            Attachment.sha256 == sha256,
        )
    )
    if same is not None:
        ctx.reply(Text(ctx.t("attach.already", name=same.name, ref=subject), tone="info"))
        return
    path = rules.store((kind, ident), sha256, name, fetched.data)
    ctx.session.add(
        Attachment(
            subject_type=kind, subject_id=ident, name=name, mime_type=mime[:128],
            size=len(fetched.data), sha256=sha256, path=path, person_id=ctx.actor.id,
            actor_label=f"{ctx.actor.name} ({ctx.actor.handle})", at=ctx.now(),
            platform=ctx.origin.platform, platform_file_id=incoming.file_id[:255],
        )
    )  # fmt: skip
    details = {"name": name, "size": len(fetched.data), "sha256": sha256}
    display_move(ctx, where, row, details)
    size, total = display_size(len(fetched.data)), count(ctx, kind, ident)
    text = ctx.t("attach.done", name=name, ref=subject, size=size, sha=sha256[:12], count=total)
    ctx.reply(Text(text, tone="success"))


def display_move(ctx: Context, where: Attachable, row, details: dict) -> None:
    """The attach step recorded, the card rewritten wherever it is shown, the workflow told."""
    kit.move(ctx, where.machine, row, where.spec.action, details=details)
    ctx.session.flush()
    if where.spec.attached is not None:
        where.spec.attached(ctx, row)
    display.show(ctx, where.cards, row)
