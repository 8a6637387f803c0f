"""Slack's message formatting in what people send, read as the plain text it shows.

Slack sends mentions, links and channels as markup (``<@U123>``, ``<!here>``,
``<https://…|label>``) and escapes what the user typed (``&lt;`` for ``<``). The core gets
plain text with nothing live in it; the renderers escape it again on the way out.
"""

import re

_ADDRESSEE = re.compile(r"^\s*<@\w+(?:\|[^<>]*)?>\s*")  # "@maintbot help": the bot's own
_MARKUP = re.compile(r"<([^<>]*)>")  # what the user typed as < and > comes escaped


def slack_text(text: str) -> str:
    """Slack's message formatting turned into plain text: nothing of it stays live.

    A leading mention (the bot, addressed) is dropped; people become ``@U123`` (what
    people.find reads), ``<!here>`` & co. ``@here``, user groups their ``@name``, channels
    ``#name``, links their label or address. Then Slack's three escapes are undone, so what the
    user typed as ``<!channel>`` is that text, which the renderers escape on the way out.
    """
    text = _MARKUP.sub(_plain, _ADDRESSEE.sub("", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain(markup: re.Match) -> str:
    target, _, label = markup.group(1).partition("|")
    if target.startswith("@"):  # <@U123> or <@U123|name>
        return target
    if target.startswith("!"):  # <!here>, <!subteam^S123|@team>, <!date^…|fallback>
        return label or "@" + target[1:].rpartition("^")[2]
    if target.startswith("#"):  # <#C123|general>
        return "#" + (label or target[1:])
    return label or target  # a link: <https://…|label>, <mailto:…>
