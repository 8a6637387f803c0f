"""Visit cards: the same card for the channel, the requester and the deciders, in any locale."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import object_session

from handlers.i18n import I18n
from handlers.messages import Action, Card, Field, Tone
from handlers.refs import ref
from handlers.visits import overlap
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


def actions(i18n: I18n, locale: str, visit: Visit) -> list[Action]:
    """The buttons for the visit's state; each one's command is its typed twin."""
    r = ref("visit", visit.id)

    def act(action_id, command, style="default", prompt=None):
        label = i18n.t(locale, f"action.{action_id}")
        hint = i18n.t(locale, prompt) if prompt else None
        return Action(f"visit.{action_id}", label, command, style, r, hint)

    decide = [
        act("approve", f"visit approve {r}", "primary"),
        act("changes", f"visit changes {r} note=", prompt="prompt.changes"),
        act("reject", f"visit reject {r} reason=", "danger", prompt="prompt.reason"),
    ]
    by_state = {
        s.REQUESTED: decide,
        s.REVIEWED: decide,
        s.CHANGES: [act("cancel", f"visit cancel {r} reason=", "danger", "prompt.reason")],
        s.APPROVED: [
            act("checkin", f"visit checkin {r}", "primary", "prompt.checkin"),
            act("cancel", f"visit cancel {r} reason=", "danger", "prompt.reason"),
        ],
        s.CHECKED_IN: [act("checkout", f"visit checkout {r}", "primary", "prompt.checkout")],
    }
    actions = list(by_state.get(visit.state, []))
    if visit.state == s.CHECKED_OUT and visit.card_returned_at is None:
        actions.append(act("card", f"visit card {r}", "primary"))
    return actions


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


def visit_card(i18n: I18n, locale: str, visit: Visit, *, with_actions: bool = True) -> Card:
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
    body = i18n.render(locale, "visit_card", visit=visit, end=end)
    state_label = t(f"state.{visit.state}")
    return Card(
        title=t("visit.card_title", ref=ref("visit", visit.id), task=visit.task[:80]),
        fields=fields,
        body=body,
        tone=TONES.get(visit.state, "info"),
        actions=actions(i18n, locale, visit) if with_actions else [],
        subject=ref("visit", visit.id),
        state=visit.state,
        state_label=state_label,
    )
