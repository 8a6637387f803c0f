"""What the domain may know of a platform: how it can show a card that keeps changing. Each
platform's sender (in bot/) declares its own; the core holds those of the platforms it serves."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    """``edits_at_will``: a card shown there can be rewritten whenever it changes (Slack, the
    console; WeCom rewrites a card only in answer to a click on it). ``repaints_per_minute``:
    how many periodic repaints (a countdown) it takes a minute; 0: none. ``threads``: a
    message can be answered in a thread of its own (Slack), where a subject's log goes under
    its card; elsewhere (WeCom's groups, the console) it goes to the channel itself."""

    name: str
    edits_at_will: bool
    repaints_per_minute: int = 0
    threads: bool = False
