"""The contract clocks as durable deadlines, and escalation when nobody answers.

Response: the card is repainted at 50% and 80% of the window; at 100% the escalation starts.
Resolution: repainted at 50%; at 80% and at 100% the supervisors and managers are pinged.
Escalation walks the organisation's levels (``faults: escalation:``): each level pings its people
by direct message and in the faults channel, ``repeat`` more times every ``every_minutes``, then
the next level follows ``after_minutes`` later, until someone acknowledges. A level with nobody
in it is skipped at once, and the admins are told.
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from handlers import audit, deadlines, display, kit, notify, oncall, roles
from handlers.context import Context
from handlers.faults import states as s
from handlers.faults.cards import CARDS, clock
from handlers.messages import Text
from handlers.refs import parse_ref, ref
from storage.models import Deadline, Fault, Person, RoleGrant

RESPOND, RESOLVE, ESCALATE = "fault.respond", "fault.resolve", "fault.escalate"
KINDS = (RESPOND, RESOLVE, ESCALATE)
RESPOND_MARKS, RESOLVE_MARKS = (50, 80, 100), (50, 80, 100)


def _at(start: datetime, due: datetime, mark: int) -> datetime:
    return start + (due - start) * mark / 100


def arm(ctx: Context, fault: Fault) -> None:
    """(Re)schedule the fault's clocks from its declaration time and its current tier.

    Marks already passed are not repeated, except the due ones: an overdue clock fires at once.
    """
    deadlines.cancel(ctx, subject_type="fault", subject_id=fault.id, kinds=KINDS)
    now = ctx.now()
    plans = []
    if fault.state == s.DECLARED:
        plans.append((RESPOND, fault.respond_due_at, RESPOND_MARKS))
    if fault.state in s.OPEN and fault.resolve_due_at is not None:
        plans.append((RESOLVE, fault.resolve_due_at, RESOLVE_MARKS))
    for kind, due, marks in plans:
        for mark in marks:
            at = _at(fault.declared_at, due, mark)
            if at > now or mark == 100:
                deadlines.schedule(
                    ctx,
                    kind,
                    subject_type="fault",
                    subject_id=fault.id,
                    due_at=max(at, now),
                    payload={"mark": mark},
                )


def stop(ctx: Context, fault: Fault, *kinds: str) -> None:
    deadlines.cancel(ctx, subject_type="fault", subject_id=fault.id, kinds=kinds or KINDS)


def show(ctx: Context, fault: Fault, *, only: tuple[str, ...] = ()) -> None:
    """Repaint the fault's card wherever it is shown (posted to the faults channel at first)."""
    display.show(ctx, CARDS, fault, only=only)


def threshold(ctx: Context, fault: Fault, kind: str) -> None:
    """A clock passed a mark: the card is repainted where a card can be edited at will, and
    elsewhere (WeCom rewrites a card only once per click) the channel gets a short notice."""
    editable = tuple(name for name, p in ctx.platforms.items() if p.edits_at_will)
    others = tuple(name for name in ctx.platforms if name not in editable)
    if editable:
        show(ctx, fault, only=editable)
    if not others:
        return
    subject = ref("fault", fault.id)
    due = fault.respond_due_at if kind == RESPOND else fault.resolve_due_at

    def build(locale, _viewer):
        t = lambda key, **kw: ctx.i18n.t(locale, key, **kw)  # noqa: E731
        left = clock(ctx.i18n, locale, due, None, fault.declared_at, ctx.now())
        which = t("field.respond" if kind == RESPOND else "field.resolve")
        text = t("fault.threshold", ref=subject, title=fault.title, which=which, clock=left)
        return Text(text, tone="danger" if ctx.now() >= due else "warning")

    notify.channel(ctx, "faults", build, subject, only=others)


def countdown_round(ctx: Context) -> int:
    """Repaint the countdown on open faults' cards (a round each minute) on the platforms that
    take periodic repaints: the least recently painted first, as many as the strictest of them
    takes a minute (Slack allows chat.update about 50 times a minute: with more open faults the
    cards take turns)."""
    platforms = [p for p in ctx.platforms.values() if p.repaints_per_minute]
    if not platforms:
        return 0
    names = tuple(p.name for p in platforms)
    limit = min(p.repaints_per_minute for p in platforms)
    shown = notify.least_recently_painted(ctx, "F-", names)
    running = set(ctx.session.scalars(select(Fault.id).where(Fault.state.in_(s.OPEN))))
    turn = [i for i in (parse_ref(x, expected="fault")[1] for x in shown) if i in running][:limit]
    faults = {f.id: f for f in ctx.session.scalars(select(Fault).where(Fault.id.in_(turn)))}
    for fault_id in turn:
        show(ctx, faults[fault_id], only=names)
    return len(turn)


def _load(ctx: Context, row: Deadline) -> Fault | None:
    return ctx.session.get(Fault, row.subject_id)


def fire_respond(ctx: Context, row: Deadline) -> None:
    fault = _load(ctx, row)
    if fault is None or fault.state != s.DECLARED:
        return
    threshold(ctx, fault, RESPOND)
    if row.payload["mark"] == 100:
        escalate(ctx, fault, level=0, round_=0)


def fire_resolve(ctx: Context, row: Deadline) -> None:
    fault = _load(ctx, row)
    if fault is None or fault.state not in s.OPEN:
        return
    threshold(ctx, fault, RESOLVE)
    mark = row.payload["mark"]
    if mark >= 80:
        key = "fault.resolve_near" if mark < 100 else "fault.resolve_overdue"
        subject = ref("fault", fault.id)

        def build(locale, _viewer):
            at = ctx.i18n.local(fault.resolve_due_at).strftime("%H:%M")
            return Text(ctx.i18n.t(locale, key, ref=subject, title=fault.title, at=at), "danger")

        notify.role(ctx, "supervisor", build, subject)  # supervisors and managers


def fire_escalate(ctx: Context, row: Deadline) -> None:
    fault = _load(ctx, row)
    if fault is not None and fault.state == s.DECLARED:
        escalate(ctx, fault, level=row.payload["level"], round_=row.payload["round"])


def people_of(ctx: Context, targets: list[str]) -> list[Person]:
    """Active people named by a level: ``schedule:NAME``, role names and ``@handles``."""
    scheduled = [
        p
        for t in targets
        if t.startswith("schedule:")
        for p in oncall.on_call_now(ctx, t.removeprefix("schedule:"))
    ]
    named = [t for t in targets if not t.startswith(("@", "schedule:"))]
    held = {r for role in named for r in roles.holders(role)}
    handles = [t[1:].lower() for t in targets if t.startswith("@")]
    found = ctx.session.scalars(
        select(Person)
        .outerjoin(RoleGrant)
        .where(Person.active.is_(True), RoleGrant.role.in_(held) | Person.handle.in_(handles))
        .distinct()
        .order_by(Person.id)
    ).all()
    return list(dict.fromkeys([*scheduled, *found]))


def target_words(ctx: Context, locale: str, targets: list[str]) -> list[str]:
    """A level's targets in words: a role by its name, ``schedule:NAME`` as that schedule,
    a handle (or a role the catalogs do not name) as written in the organisation file."""
    i18n = ctx.i18n

    def word(target: str) -> str:
        if target.startswith("schedule:"):
            return i18n.t(locale, "fault.schedule_target", name=target.removeprefix("schedule:"))
        known = not target.startswith("@") and i18n.has(locale, f"role.{target}")
        return i18n.t(locale, f"role.{target}") if known else target

    return [word(t) for t in targets]


def escalate(ctx: Context, fault: Fault, *, level: int, round_: int) -> None:
    levels = ctx.org.faults.escalation
    subject = ref("fault", fault.id)
    while level < len(levels) and not (people := people_of(ctx, levels[level].notify)):

        def nobody(locale, _viewer, targets=levels[level].notify, n=level + 1):
            who = target_words(ctx, locale, targets)
            return Text(
                ctx.i18n.t(locale, "fault.level_empty", ref=subject, level=n, who=who), "warning"
            )

        notify.role(ctx, "admin", nobody, subject)
        level, round_ = level + 1, 0
    if level >= len(levels):
        return
    step = levels[level]
    names = ", ".join(p.name for p in people)
    late = max(0, round((ctx.now() - fault.respond_due_at).total_seconds() / 60))

    def ping(locale, _viewer):
        text = ctx.i18n.t(
            locale,
            "fault.escalation",
            ref=subject,
            title=fault.title,
            tier=fault.tier,
            late=late,
            names=names,
            level=level + 1,
        )
        return Text(text, tone="danger")

    for person in people:
        notify.person(ctx, person, ping, subject)
    notify.channel(ctx, "faults", ping, subject, mention=people)
    fault.escalation_level = level + 1
    audit.record(
        ctx,
        subject_type="fault",
        subject_id=fault.id,
        action="fault.escalate",
        details={"level": level + 1, "round": round_, "notified": [p.handle for p in people]},
    )
    if round_ < step.repeat:
        nxt, after = (level, round_ + 1), step.every_minutes
    elif level + 1 < len(levels):
        nxt, after = (level + 1, 0), levels[level + 1].after_minutes
    else:
        return
    deadlines.schedule(
        ctx,
        ESCALATE,
        subject_type="fault",
        subject_id=fault.id,
        due_at=ctx.now() + timedelta(minutes=after),
        payload={"level": nxt[0], "round": nxt[1]},
    )


TIMERS = {RESPOND: fire_respond, RESOLVE: fire_resolve, ESCALATE: fire_escalate}
COUNTDOWNS = kit.Periodic("fault-countdowns", timedelta(minutes=1), countdown_round)
