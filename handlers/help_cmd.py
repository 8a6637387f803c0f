"""``/maint help`` and ``/maint help visit``: the command reference, from the registry."""

from handlers.context import Context
from handlers.messages import Card
from handlers.registry import Area, Commands

commands = Commands(Area("help", ("帮助", "?", "？", "h")))


def _lines(ctx: Context, area_name: str) -> list[str]:
    lines = []
    for spec in ctx.registry.verbs_of(area_name):
        usage = ctx.t(f"usage.{spec.key}")
        aliases = f"  ({' / '.join(spec.aliases)})" if spec.aliases else ""
        lines.append(f"/maint {usage}{aliases}\n    {ctx.t(f'help.{spec.key}')}")
    return lines


@commands("help", public=True)
def show_help(ctx: Context, inv) -> None:
    topic = ctx.registry.area_of(inv.args[0]) if inv.args else None
    if topic:
        aliases = " / ".join(ctx.registry.areas[topic].aliases)
        ctx.reply(
            Card(
                title=ctx.t("help.area_title", area=topic, aliases=aliases),
                body="\n".join(_lines(ctx, topic)),
            )
        )
        return
    areas = sorted({a for a, _ in ctx.registry.commands} - {"help"})
    body = "\n".join(
        f"• {name} ({' / '.join(ctx.registry.areas[name].aliases[:2])}) — {ctx.t(f'area.{name}')}"
        for name in areas
    )
    ctx.reply(Card(title=ctx.t("help.title"), body=body + "\n\n" + ctx.t("help.footer")))
