"""``/maint audit V-12``: the audit trail of one subject, of any kind a reference names."""

from handlers import audit
from handlers.context import Context
from handlers.errors import NotFound
from handlers.refs import parse_ref, ref
from handlers.registry import Area, Commands

commands = Commands(Area("audit", ("审计", "日志", "历史", "history", "log")))


@commands("audit", words=1)
def show_audit(ctx: Context, inv) -> None:
    kind, ident = parse_ref(inv.arg(0, "ref"))
    subject = ref(kind, ident)
    rows = audit.entries(ctx.session, kind, ident)
    if not rows:  # creating a subject is recorded: no entries, no such subject (or kind yet)
        raise NotFound("error.not_found", ref=subject)
    ctx.reply(audit.trail(ctx, subject, rows))
