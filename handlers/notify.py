"""Notices leave only through the outbox, written in the same transaction as their cause.

A notice is built when it is queued, for whoever will read it: in their locale, and for the
person a direct message goes to (a card shows them only the buttons they may use; a channel's
copy is built for no one in particular). Then it is routed: a person gets it on the platform they
last wrote from, else on the first active platform where they have an id; a channel kind goes to
every active platform that has an address for it.
"""

import dataclasses
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import func, select

from handlers import roles
from handlers.context import Context
from handlers.messages import Message, Text, to_dict
from handlers.orgconfig import ChannelRoute
from handlers.targets import CHANNEL, PERSON, REPLY, Target
from storage.models import OutboxMessage, Person, RoleGrant

log = logging.getLogger(__name__)

PLATFORM_ORDER = ("slack", "wecom", "console")
# builds a notice in a locale for its viewer: the Person a direct message goes to, None for a
# channel (builders that say the same to everyone ignore it)
Builder = Callable[[str, Person | None], Message]


def _person_address(person: Person, platform: str) -> str | None:
    return {
        "slack": person.slack_user_id,
        "wecom": person.wecom_user_id,
        "console": person.handle,
    }[platform]


def _enqueue(
    ctx: Context,
    *,
    platform,
    target_kind,
    target,
    locale,
    message,
    subject,
    person_id,
    replaces_id=None,
):
    now = ctx.now()
    ctx.session.add(
        OutboxMessage(
            created_at=now,
            platform=platform,
            target_kind=target_kind,
            target=target,
            person_id=person_id,
            locale=locale,
            subject=subject,
            kind=message.kind,
            payload=to_dict(message),
            replaces_id=replaces_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )


def _wecom_channel(route) -> str | None:
    if route.wecom_chat:
        return route.wecom_chat
    return f"webhook:{route.wecom_webhook}" if route.wecom_webhook else None


def reaches(ctx: Context, recipient: Person) -> bool:
    """Whether a platform the bot serves can send ``recipient`` a direct message."""
    return any(p in ctx.platforms and _person_address(recipient, p) for p in PLATFORM_ORDER)


def person(ctx: Context, recipient: Person, build: Builder, subject: str | None = None) -> bool:
    """Queue a direct notice to one person; False when no active platform reaches them."""
    locale = ctx.i18n.locale(recipient.locale)
    for platform in dict.fromkeys((recipient.last_platform, *PLATFORM_ORDER)):
        address = _person_address(recipient, platform) if platform in ctx.platforms else None
        if address:
            _enqueue(
                ctx,
                platform=platform,
                target_kind=PERSON,
                target=address,
                locale=locale,
                message=build(locale, recipient),
                subject=subject,
                person_id=recipient.id,
            )
            return True
    log.warning("no platform reaches %s; notice about %s not queued", recipient.handle, subject)
    return False


def role(
    ctx: Context, role_name: str, build: Builder, subject: str | None = None, *, skip=()
) -> int:
    """Queue a notice to everyone holding a role (except the ids in ``skip``)."""
    people = ctx.session.scalars(
        select(Person)
        .join(RoleGrant)
        .where(RoleGrant.role.in_(roles.holders(role_name)), Person.active.is_(True))
        .distinct()
        .order_by(Person.id)
    ).all()
    return sum(person(ctx, p, build, subject) for p in people if p.id not in skip)


def channel(
    ctx: Context,
    kind: str,
    build: Builder,
    subject: str | None = None,
    *,
    mention: Sequence[Person] = (),
    only: Sequence[str] = (),
) -> int:
    """Queue a notice to the channel configured for ``kind`` on each active platform (or on
    those of ``only``), a text @-mentioning ``mention`` where they have an id there."""
    return to_route(
        ctx, ctx.org.channels.get(kind), f"#{kind}", build, subject, mention=mention, only=only
    )


def to_route(
    ctx: Context,
    route: ChannelRoute | None,
    console: str,
    build: Builder,
    subject: str | None = None,
    *,
    mention: Sequence[Person] = (),
    only: Sequence[str] = (),
) -> int:
    """Queue a notice to the addresses of ``route`` (the console's: ``console``), as
    ``channel`` does for a kind of notice (a system's own channels use it directly)."""
    addresses = {
        "console": console,
        "slack": route.slack if route else None,
        "wecom": _wecom_channel(route) if route else None,
    }
    locale = ctx.i18n.default_locale
    count = 0
    for platform in PLATFORM_ORDER:
        if (
            platform in ctx.platforms
            and addresses[platform]
            and platform in (only or PLATFORM_ORDER)
        ):
            message = build(locale, None)
            ids = tuple(a for p in mention if (a := _person_address(p, platform)))
            if ids and isinstance(message, Text):
                message = dataclasses.replace(message, mentions=ids)
            _enqueue(
                ctx,
                platform=platform,
                target_kind=CHANNEL,
                target=addresses[platform],
                locale=locale,
                message=message,
                subject=subject,
                person_id=None,
            )
            count += 1
    return count


def thread(ctx: Context, kind: str, build: Builder, subject: str) -> int:
    """Queue a notice to ``subject``'s thread: a reply under its card in channel ``kind`` on
    each platform with threads where the card was posted (sent, or still on its way); on the
    others, a post to the channel itself (WeCom's group, the console), as ``channel`` does."""
    posted = {
        row.platform: row
        for row in _live_cards(ctx, subject, ())
        if row.person_id is None and row.platform in ctx.platforms
    }
    threaded = [p for p, row in posted.items() if ctx.platforms[p].threads]
    locale = ctx.i18n.default_locale
    for platform in threaded:
        _enqueue(ctx, platform=platform, target_kind=REPLY, target=str(posted[platform].id),
                 locale=locale, message=build(locale, None), subject=subject,
                 person_id=None)  # fmt: skip
    others = tuple(p for p in PLATFORM_ORDER if p not in threaded)
    return len(threaded) + (channel(ctx, kind, build, subject, only=others) if others else 0)


def subject_card(
    ctx: Context,
    kind: str,
    build: Builder,
    subject: str,
    *,
    to: Sequence[Person] = (),
    only: tuple[str, ...] = (),
) -> int:
    """Show a subject's card: posted to channel ``kind`` the first time, and sent as a new
    message to each person of ``to``; every other card already shown for the subject is updated
    in place, for its own viewer, so its state is current and stale buttons disappear.

    Each channel and each person holds one live card per subject: a new copy sent to someone
    takes over from the one they had, which is left as it was. ``only`` limits the updates to
    those platforms (a countdown repaints Slack every minute, not WeCom, where an update costs a
    response code) and never posts."""
    live = _live_cards(ctx, subject, only)
    count = 0 if live or only else channel(ctx, kind, build, subject)
    fresh = {p.id for p in to}
    for original in live:
        if original.person_id in fresh:
            continue
        viewer = ctx.session.get(Person, original.person_id) if original.person_id else None
        _enqueue(
            ctx,
            platform=original.platform,
            target_kind=original.target_kind,
            target=original.target,
            locale=original.locale,
            message=build(original.locale, viewer),
            subject=subject,
            person_id=original.person_id,
            replaces_id=original.id,
        )
        count += 1
    return count + sum(person(ctx, p, build, subject) for p in to)


def _cards_shown(platforms: Sequence[str] = ()):
    """Where cards are shown and can be rewritten: every card posted to a person or a channel
    (not an answer at a response URL or in a thread, which no update reaches) and not failed.
    The one query behind every "where is this card" (``platforms``: on those only)."""
    query = select(OutboxMessage).where(
        OutboxMessage.kind == "card",
        OutboxMessage.replaces_id.is_(None),
        OutboxMessage.target_kind.in_((PERSON, CHANNEL)),
        OutboxMessage.status.not_in(("failed", "dead")),
    )
    return query.where(OutboxMessage.platform.in_(platforms)) if platforms else query


def _live_cards(ctx: Context, subject: str, only: tuple[str, ...]) -> list[OutboxMessage]:
    """The newest card shown for ``subject`` to each person and in each channel."""
    query = _cards_shown(only).where(OutboxMessage.subject == subject)
    live: dict[tuple, OutboxMessage] = {}
    for row in ctx.session.scalars(query.order_by(OutboxMessage.id.desc())):
        key = (row.person_id,) if row.person_id else (row.platform, row.target)
        live.setdefault(key, row)
    return sorted(live.values(), key=lambda row: row.id)


def least_recently_painted(ctx: Context, prefix: str, platforms: Sequence[str]) -> list[str]:
    """The subjects (references starting with ``prefix``) whose cards are shown on
    ``platforms``, the one painted longest ago first: whose turn it is in a repaint round."""
    shown = _cards_shown(platforms).where(OutboxMessage.subject.like(f"{prefix}%")).subquery()
    with_updates = (
        select(OutboxMessage.subject, func.max(OutboxMessage.id).label("last"))
        .where(
            OutboxMessage.subject.in_(select(shown.c.subject)),
            OutboxMessage.platform.in_(platforms),
            OutboxMessage.kind == "card",
        )
        .group_by(OutboxMessage.subject)
        .subquery()
    )
    return list(ctx.session.scalars(select(with_updates.c.subject).order_by(with_updates.c.last)))


def direct(ctx: Context, platform: str, target: Target, locale: str, message: Message) -> None:
    """Queue a message to a platform address an adapter names (a thread, a response URL)."""
    target_kind, address = target.encode()
    _enqueue(
        ctx,
        platform=platform,
        target_kind=target_kind,
        target=address,
        locale=locale,
        message=message,
        subject=getattr(message, "subject", None),
        person_id=None,
    )
