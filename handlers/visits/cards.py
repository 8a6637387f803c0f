"""Visit cards, in any locale: a channel's card offers every button of the visit's state, a card
shown to one person only the buttons the rules let them use."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from handlers.context import Actor
from handlers.i18n import I18n
from handlers.messages import Action, Card, Field, Style, Tone
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


# the button of each step: its id, typed twin, style and the answer it asks for
BUTTONS: dict[str, tuple[str, str, Style, str | None]] = {
    "review": ("approve", "visit review {ref}", "primary", None),
    "approve": ("approve", "visit approve {ref}", "primary", None),
    "changes": ("changes", "visit changes {ref} note=", "default", "prompt.changes"),
    "reject": ("reject", "visit reject {ref} reason=", "danger", "prompt.reason"),
    "checkin": ("checkin", "visit checkin {ref}", "primary", "prompt.checkin"),
    "checkout": ("checkout", "visit checkout {ref}", "primary", "prompt.checkout"),
    "cancel": ("cancel", "visit cancel {ref} reason=", "danger", "prompt.reason"),
    "card": ("card", "visit card {ref}", "primary", None),
}


def actions(
    i18n: I18n, locale: str, visit: Visit, viewer: Actor | None, staff: guard.Staff
) -> list[Action]:
    """The buttons of the steps the visit's state allows, in the table's order; for a card
    shown to one person (``viewer``) only those the rules let them take. Each one's command is
    its typed twin."""
    r = ref("visit", visit.id)
    steps = [t for t in s.TRANSITIONS if visit.state in t.sources and t.action in BUTTONS]
    if visit.state == s.CHECKED_OUT and visit.card_returned_at is None:
        steps.append(s.RETURN_CARD)
    parties = guard.Parties.of(visit)
    buttons = []
    for t in steps:
        if viewer is not None and guard.refusal(t, viewer, parties, staff) is not None:
            continue
        action_id, command, style, prompt = BUTTONS[t.action]
        label = i18n.t(locale, f"action.{action_id}")
        hint = i18n.t(locale, prompt) if prompt else None
        buttons.append(Action(f"visit.{action_id}", label, command.format(ref=r), style, r, hint))
    return buttons


def decision_notes(session: Session, visit: Visit) -> list[dict]:
    """The comments of the decisions since the request or its last edit, with who made them:
    a resubmission starts a new round (earlier notes stay in the audit trail)."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "visit", AuditEntry.subject_id == visit.id)
        .order_by(AuditEntry.id)
    ).all()
    notes: list[dict] = []
    for e in entries:
        action = e.action.removeprefix("visit.")
        if action in ("request", "edit"):
            notes = []
        elif action in NOTED and e.comment:
            notes.append({"action": action, "by": guard.name_in(e), "text": e.comment})
    return notes


def tone(visit: Visit) -> Tone:
    """The colour of the visit's state (its card's, and its notices')."""
    return TONES.get(visit.state, "info")


def _tools(t, visit: Visit) -> Field:
    """The tools the request lists; once checked in, the tools recorded at check-in."""
    if visit.tools_in is None:
        return Field(t("field.tools"), ", ".join(visit.tools or []) or "—")
    return Field(t("field.tools_in"), ", ".join(visit.tools_in) or "—")


def _overlapping(visit: Visit) -> list[Visit]:
    return overlap.overlapping(
        object_session(visit),
        visit.room_id,
        visit.start_at,
        visit.duration_minutes,
        other_than=visit.id,
    )


def _early_reason(visit: Visit) -> str | None:
    """The reason an admin gave for checking the visitor in early (kept in the audit log)."""
    if visit.checked_in_at is None:
        return None
    details = object_session(visit).scalar(
        select(AuditEntry.details)
        .where(
            AuditEntry.subject_type == "visit",
            AuditEntry.subject_id == visit.id,
            AuditEntry.action == "visit.checkin",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return (details or {}).get("early")


def visit_card(i18n: I18n, locale: str, visit: Visit, *, viewer: Actor | None = None) -> Card:
    """The visit's card; ``viewer``: the one person it is shown to (None: a channel)."""
    t = lambda key, **kw: i18n.t(locale, key, **kw)  # noqa: E731
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
    if early := _early_reason(visit):
        fields.append(Field(t("field.early_checkin"), early))
    if visit.state in s.OPEN and (others := _overlapping(visit)):
        fields.append(Field(t("field.overlap"), t("visit.overlap", **overlap.named(others))))
    session = object_session(visit)
    staff = guard.staff(session, i18n.default_locale)
    body = i18n.render(
        locale,
        "visit_card",
        visit=visit,
        end=end,
        notes=decision_notes(session, visit),
        shortfall=guard.shortfall(guard.Parties.of(visit), visit.state, staff),
    )
    state_label = t(f"state.{visit.state}")
    return Card(
        title=t("visit.card_title", ref=ref("visit", visit.id), task=visit.task[:80]),
        fields=fields,
        body=body,
        tone=TONES.get(visit.state, "info"),
        actions=actions(i18n, locale, visit, viewer, staff),
        subject=ref("visit", visit.id),
        state=visit.state,
        state_label=state_label,
    )
