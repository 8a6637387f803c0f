"""What narrows a visit list: ``site=``, ``room=``, ``from=``/``to=`` (planned day), ``state=``."""

from sqlalchemy import func, select

from handlers import listing
from handlers.context import Context
from handlers.errors import UserError
from handlers.i18n import LOCALES
from handlers.registry import Invocation
from handlers.values import parse_list
from handlers.visits import states as s
from storage.models import Room, Site, Visit

OPTIONS: dict[str, tuple[str, ...]] = {
    **listing.SITE_OPTION,
    "room": ("机房", "房间"),
    **listing.DATE_OPTIONS,
    "state": ("status", "状态"),
}
# short words for states, besides their names and their labels on cards in every language
STATE_WORDS: dict[str, tuple[str, ...]] = {
    s.REQUESTED: ("new", "待审核", "新申请"),
    s.REVIEWED: ("待批准", "已审核"),
    s.APPROVED: ("已批准", "批准"),
    s.CHANGES: ("changes", "退回", "待修改"),
    s.REJECTED: ("已驳回", "驳回"),
    s.CANCELLED: ("canceled", "已取消", "取消"),
    s.CHECKED_IN: ("onsite", "在场", "已签到"),
    s.CHECKED_OUT: ("done", "已签出", "签出"),
}


def conditions(ctx: Context, inv: Invocation) -> list:
    """The WHERE conditions the typed filters add to a visit list."""
    where = []
    if word := inv.opt("site"):
        code = listing.site_code(ctx, word)
        where.append(Visit.room_id.in_(select(Room.id).join(Site).where(Site.code == code)))
    if word := inv.opt("room"):
        where.append(Visit.room_id.in_(_room_ids(ctx, word)))
    where += listing.date_range(ctx, inv, Visit.start_at)
    if words := inv.opt("state"):
        where.append(Visit.state.in_(states(ctx, words)))
    return where


def _room_ids(ctx: Context, word: str) -> list[int]:
    """``SH1/A101``, or ``A101`` in every site that has one."""
    site_code, _, room_code = word.rpartition("/")
    query = select(Room.id).join(Site).where(func.lower(Room.code) == room_code.lower())
    if site_code:
        query = query.where(func.lower(Site.code) == site_code.lower())
    ids = list(ctx.session.scalars(query))
    if not ids:
        rooms = ctx.session.execute(
            select(Site.code, Room.code).join(Room.site).order_by(Site.code, Room.code)
        )
        known = ", ".join(f"{site}/{room}" for site, room in rooms)
        raise UserError("error.unknown_room", value=word, known=known or "—")
    return ids


def states(ctx: Context, words: str) -> list[str]:
    """States by name (``approved``), by card label in any language (``已批准``), or short word."""
    lookup = {}
    for state in (*s.OPEN, *s.FINAL):
        labels = (ctx.i18n.t(locale, f"state.{state}") for locale in LOCALES)
        for word in (state, *labels, *STATE_WORDS[state]):
            lookup[word.casefold()] = state
    found = []
    for word in parse_list(words):
        if word.casefold() not in lookup:
            raise UserError("error.unknown_state", value=word, known=", ".join(STATE_WORDS))
        found.append(lookup[word.casefold()])
    return found
