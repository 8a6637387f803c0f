"""The commands every kind of row that takes files gets: ``<kind> attach R-3`` (the next files
sent to the bot go there: WeCom has no threads) and ``<kind> files R-3`` (its attachments)."""

from collections.abc import Mapping

from handlers import audit, kit
from handlers.attachments.files import display_size
from handlers.attachments.intake import listed
from handlers.attachments.routes import CHOSEN, WINDOW, Attachable, load
from handlers.context import Context
from handlers.messages import Card, Text
from handlers.refs import ref
from handlers.registry import Commands, Invocation
from storage.models import Attachment


def line(ctx: Context, a: Attachment) -> str:
    """``report.pdf · 1.2 MB · sha256 1a2b3c4d5e6f · Alice, 11-23 10:05``"""
    who = a.actor_label.rsplit(" (", 1)[0]
    return (
        f"{a.name} · {display_size(a.size)} · sha256 {a.sha256[:12]} · {who}, {ctx.i18n.fmt(a.at)}"
    )


def files_card(ctx: Context, kind: str, ident: int) -> Card:
    rows = listed(ctx, kind, ident)
    body = "\n".join(line(ctx, a) for a in rows) or ctx.t("attach.none")
    return Card(title=ctx.t("attach.list_title", ref=ref(kind, ident), count=len(rows)), body=body)


def commands(kinds: Mapping[str, Attachable]) -> Commands:
    """``attach`` and ``files`` in the area of each kind (the area is named as the kind)."""
    group = Commands()
    for kind, where in kinds.items():
        _declare(group, kind, where)
    return group


def _declare(group: Commands, kind: str, where: Attachable) -> None:
    @group(kind, "attach", aliases=("附件到", "上传到", "附加"), words=1)
    def attach_to(ctx: Context, inv: Invocation) -> None:
        row = kit.load(ctx, where.machine, inv.arg(0, "ref"))
        subject = ref(kind, row.id)
        load(ctx, {kind: where}, subject)  # it takes files now, from this sender
        audit.record(ctx, subject_type=kind, subject_id=row.id, action=f"{kind}.{CHOSEN}")
        hours = WINDOW.seconds // 3600
        ctx.reply(Text(ctx.t("attach.chosen", ref=subject, hours=hours), tone="success"))

    @group(kind, "files", aliases=("附件", "文件", "attachments"), words=1)
    def show_files(ctx: Context, inv: Invocation) -> None:
        row = kit.load(ctx, where.machine, inv.arg(0, "ref"))
        ctx.reply(files_card(ctx, kind, row.id))
