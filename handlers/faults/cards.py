"""The fault card: tier, what is down, and the two contract clocks as time left or overdue.

A card is a picture at one moment (``now``); the thresholds (50%, 80%, due) repaint it in place.
Once acknowledged or resolved, a clock shows the time achieved against its target instead.
"""

from datetime import datetime

from handlers import display, kit
from handlers.context import Actor, Context
from handlers.faults import states as s
from handlers.i18n import I18n
from handlers.messages import Card, Field, Tone
from handlers.refs import ref
from storage.models import Fault

TONES: dict[str, Tone] = {s.ACKNOWLEDGED: "info", s.RESOLVED: "success", s.CLOSED: "success"}


def _minutes(delta) -> int:
    return max(0, round(delta.total_seconds() / 60))


def clock(i18n: I18n, locale: str, due: datetime | None, done: datetime | None, start, now):
    """ "due 10:20 (8 min left)", "due now (10:20)", "overdue by 3 min", or "met: 6 min
    (target 10)"."""
    t = lambda key, **kw: i18n.t(locale, key, **kw)  # noqa: E731
    if due is None:
        return t("fault.no_target")
    target = _minutes(due - start)
    if done is not None:
        key = "fault.clock_met" if done <= due else "fault.clock_missed"
        return t(key, took=_minutes(done - start), target=target)
    at = i18n.local(due).strftime("%H:%M")
    if now < due:
        return t("fault.clock_left", at=at, left=_minutes(due - now))
    late = _minutes(now - due)
    return t("fault.clock_overdue", late=late) if late else t("fault.clock_due", at=at)


BUTTONS = {
    "ack": display.Button("fault ack {ref}", "primary"),
    "resolve": display.Button("fault resolve {ref} summary=", "primary", "prompt.fault_summary"),
    "close": display.Button("fault close {ref} cause=", "primary", "prompt.fault_cause"),
    "reopen": display.Button("fault reopen {ref} reason=", "danger", "prompt.reason"),
    "update": display.Button("fault update {ref} note=", prompt="prompt.note"),
    "refresh": display.Button("fault refresh {ref}"),
}


def tier_label(i18n: I18n, locale: str, fault: Fault) -> str:
    """The tier as the contract describes it; when the contract's two questions were answered,
    the tier with the answers given instead, which the contract's wording could contradict."""
    answers = [
        i18n.t(locale, f"fault.{question}_{'yes' if answer else 'no'}")
        for question, answer in (
            ("business_down", fault.business_down),
            ("data_lost", fault.data_lost),
        )
        if answer is not None
    ]
    if not answers:
        return i18n.t(locale, f"fault.tier{fault.tier}")
    return i18n.t(locale, "fault.tier_answered", tier=fault.tier, answers=answers)


def fault_card(ctx: Context, locale: str, fault: Fault, viewer: Actor | None) -> Card:
    """The fault's card as it is now (anyone may take any of its steps: every reader gets the
    same buttons)."""
    i18n, now = ctx.i18n, ctx.now()
    t = lambda key, **kw: i18n.t(locale, key, **kw)  # noqa: E731
    start = fault.declared_at
    respond = clock(i18n, locale, fault.respond_due_at, fault.acknowledged_at, start, now)
    resolve = clock(i18n, locale, fault.resolve_due_at, fault.resolved_at, start, now)
    fields = [
        Field(t("field.tier"), tier_label(i18n, locale, fault)),
        Field(t("field.respond"), respond),
        Field(t("field.resolve"), resolve),
        Field(t("field.system"), fault.system or "—"),
        Field(t("field.site"), fault.site_code or "—"),
        Field(t("field.declared"), f"{fault.declared_by.name} · {i18n.fmt(start)}"),
    ]
    if fault.acknowledged_by is not None:
        fields.append(Field(t("field.acknowledged"), fault.acknowledged_by.name))
    overdue = fault.state == s.DECLARED and now > fault.respond_due_at
    late_fix = fault.resolve_due_at and fault.state in s.OPEN and now > fault.resolve_due_at
    tone = "danger" if overdue or late_fix else TONES.get(fault.state, "warning")
    body = "\n".join(
        x
        for x in (
            fault.description,
            fault.impact and t("fault.impact_is", impact=fault.impact),
            fault.resolution and t("fault.resolution_is", text=fault.resolution),
            fault.root_cause and t("fault.root_cause_is", text=fault.root_cause),
        )
        if x
    )
    return Card(
        title=t("fault.card_title", ref=ref("fault", fault.id), title=fault.title[:80]),
        fields=fields,
        body=body,
        tone=tone,
        actions=display.buttons(
            ctx, s.MACHINE, fault, viewer, BUTTONS, locale, steps=(s.UPDATE, s.REFRESH)
        ),
        subject=ref("fault", fault.id),
        state=fault.state,
        state_label=t(f"state.fault_{fault.state}"),
    )


CARDS = kit.Cards(s.MACHINE, "faults", fault_card)
