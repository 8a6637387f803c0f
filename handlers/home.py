"""``/maint home``: what waits for me and what I have open (Slack shows it on the App Home)."""

from handlers.context import Context
from handlers.grammar import tokenize
from handlers.registry import Invocation, area, command, resolve

area("home", "inbox", "todo", "我的待办", "首页", "待办")

# Each workflow adds the lists that make up a person's open items.
SECTIONS: list[str] = ["visit list pending", "visit list mine", "fault list mine"]


@command("home")
def home(ctx: Context, inv: Invocation) -> None:
    for text in SECTIONS:
        invocation = resolve(tokenize(text))
        invocation.spec.func(ctx, invocation)
