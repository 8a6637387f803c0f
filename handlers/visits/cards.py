"""Visit cards, in any locale: a channel's card offers every button of the visit's state, a card
shown to one person only the buttons the rules let them use."""

from datetime import timedelta

from handlers import audit, display, kit
from handlers.context import Actor, Context
from handlers.messages import Card, Field, Tone
from handlers.refs import ref
from handlers.visits import guard, overlap
from handlers.visits import states as s
from storage.models import AuditEntry, Visit

TONES: dict[str, Tone] = {
    s.APPROVED: "success",
    s.CHECKED_IN: "success",
    s.CHECKED_OUT: "info",
    s.REJECTED: "danger",
    s.CANCELLED: "warning",
    s.CHANGES: "warning",
}
NOTED = ("review", "approve", "changes", "reject", "cancel")  # decisions whose comment is shown

BUTTONS = {
    "review": display.Button("visit review {ref}", "primary", name="approve"),
    "approve": display.Button("visit approve {ref}", "primary"),
    "changes": display.Button("visit changes {ref} note=", prompt="prompt.changes"),
    "reject": display.Button("visit reject {ref} reason=", "danger", "prompt.reason"),
    "checkin": display.Button("visit checkin {ref}", "primary", "prompt.checkin"),
    "checkout": display.Button("visit checkout {ref}", "primary", "prompt.checkout"),
    "cancel": display.Button("visit cancel {ref} reason=", "danger", "prompt.reason"),
    "card": display.Button("visit card {ref}", "primary"),
}


def decision_notes(entries: list[AuditEntry]) -> list[dict]:
    """The comments of the decisions since the request or its last edit, with who made them:
    a resubmission starts a new round (earlier notes stay in the audit trail)."""
    notes: list[dict] = []
    for e in entries:
        action = e.action.removeprefix("visit.")
        if action in ("request", "edit"):
            notes = []
        elif action in NOTED and e.comment:
            notes.append({"action": action, "by": audit.name_of(e), "text": e.comment})
    return notes


def tone(visit: Visit) -> Tone:
    """The colour of the visit's state (its card's, and its notices')."""
    return TONES.get(visit.state, "info")


def _tools(t, visit: Visit) -> Field:
    """The tools the request lists; once checked in, the tools recorded at check-in."""
    if visit.tools_in is None:
        return Field(t("field.tools"), ", ".join(visit.tools or []) or "—")
    return Field(t("field.tools_in"), ", ".join(visit.tools_in) or "—")


def _overlapping(ctx: Context, visit: Visit) -> list[Visit]:
    return overlap.overlapping(
        ctx.session,
        visit.room_id,
        visit.start_at,
        visit.duration_minutes,
        other_than=visit.id,
    )


def _early_reason(entries: list[AuditEntry]) -> str | None:
    """The reason an admin gave for checking the visitor in early (kept in the audit log)."""
    checkins = [e for e in entries if e.action == "visit.checkin"]
    return checkins and (checkins[-1].details or {}).get("early")


def visit_card(ctx: Context, locale: str, visit: Visit, viewer: Actor | None) -> Card:
    """The visit's card; ``viewer``: the one person it is shown to (None: a channel)."""
    i18n = ctx.i18n
    t = lambda key, **kw: i18n.t(locale, key, **kw)  # noqa: E731
    entries = audit.entries(ctx.session, "visit", visit.id)
    end = visit.start_at + timedelta(minutes=visit.duration_minutes)
    when = f"{i18n.fmt(visit.start_at)} – {i18n.local(end).strftime('%H:%M')}"
    fields = [
        Field(t("field.when"), when),
        Field(t("field.room"), f"{visit.room.site.name} {visit.room.site.code}/{visit.room.code}"),
        Field(t("field.visitor"), f"{visit.visitor_name} · {visit.company}"),
        Field(t("field.contact"), visit.contact),
        Field(t("field.identity"), f"{visit.id_type} ****{visit.id_last4}"),
        Field(t("field.responsible"), visit.responsible.name),
        _tools(t, visit),
    ]
    if visit.certificates:
        fields.append(Field(t("field.certificates"), visit.certificates))
    if visit.access_card:
        fields.append(Field(t("field.access_card"), visit.access_card))
    if early := _early_reason(entries):
        fields.append(Field(t("field.early_checkin"), early))
    if visit.state in s.OPEN and (others := _overlapping(ctx, visit)):
        fields.append(Field(t("field.overlap"), t("visit.overlap", **overlap.named(others))))
    everyone = kit.staff(ctx)
    body = i18n.render(
        locale,
        "visit_card",
        visit=visit,
        end=end,
        notes=decision_notes(entries),
        shortfall=guard.shortfall(visit, everyone),
    )
    returned = visit.state == s.CHECKED_OUT and visit.card_returned_at is None
    state_label = t(f"state.{visit.state}")
    return Card(
        title=t("visit.card_title", ref=ref("visit", visit.id), task=visit.task[:80]),
        fields=fields,
        body=body,
        tone=TONES.get(visit.state, "info"),
        actions=display.buttons(
            ctx,
            s.MACHINE,
            visit,
            viewer,
            BUTTONS,
            locale,
            steps=[s.RETURN_CARD] * returned,
            everyone=everyone,
        ),
        subject=ref("visit", visit.id),
        state=visit.state,
        state_label=state_label,
    )


CARDS = kit.Cards(s.MACHINE, "visits", visit_card)
