"""``/maint audit V-12``: the audit trail of one subject."""

from sqlalchemy.orm import Session

from handlers import audit
from handlers.context import Context
from handlers.errors import NotFound
from handlers.refs import parse_ref
from handlers.registry import area, command
from storage.models import Visit

area("audit", "审计", "日志", "历史", "history", "log")

SUBJECT_MODELS = {"visit": Visit}


def _exists(session: Session, kind: str, ident: int) -> bool:
    model = SUBJECT_MODELS.get(kind)
    return model is not None and session.get(model, ident) is not None


@command("audit")
def show_audit(ctx: Context, inv) -> None:
    word = inv.arg(0, "ref")
    kind, ident = parse_ref(word)
    if not _exists(ctx.session, kind, ident):
        raise NotFound("error.not_found", ref=word.upper())
    ctx.reply(audit.trail(ctx, kind, ident))
