"""``/maint home``: what waits for me and what I have open (Slack shows it on the App Home)."""

from handlers.context import Context
from handlers.grammar import tokenize
from handlers.registry import Area, Commands, Invocation

commands = Commands(Area("home", ("inbox", "todo", "我的待办", "首页", "待办")))


@commands("home", words=0)
def home(ctx: Context, inv: Invocation) -> None:
    for text in ctx.registry.home:  # each workflow's lists of a person's open items
        invocation = ctx.registry.resolve(tokenize(text))
        invocation.spec.func(ctx, invocation)
