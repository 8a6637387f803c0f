"""The follow-up (后续监控, document 000 §8): a repaired system is watched for
``followup_hours`` (24 by default) after completion; then a deadline row reminds the admins to
confirm it stable (``repair stable``) or reopen it."""

from datetime import timedelta

from sqlalchemy import select

from handlers import deadlines, display, roles
from handlers.context import Context
from handlers.messages import Text
from handlers.refs import ref
from handlers.repairs import states as s
from handlers.repairs.cards import CARDS
from storage.models import Deadline, Person, Repair, RoleGrant

FOLLOWUP = "repair.followup"


def schedule(ctx: Context, repair: Repair) -> None:
    """Arm the follow-up from now (the completion)."""
    cancel(ctx, repair)
    repair.followup_due_at = ctx.now() + timedelta(hours=ctx.org.repairs.followup_hours)
    deadlines.schedule(
        ctx, FOLLOWUP, subject_type="repair", subject_id=repair.id, due_at=repair.followup_due_at
    )


def cancel(ctx: Context, repair: Repair) -> None:
    deadlines.cancel(ctx, subject_type="repair", subject_id=repair.id, kinds=(FOLLOWUP,))


def admins(ctx: Context) -> list[Person]:
    return list(
        ctx.session.scalars(
            select(Person)
            .join(RoleGrant)
            .where(RoleGrant.role.in_(roles.holders("admin")), Person.active.is_(True))
            .distinct()
            .order_by(Person.id)
        )
    )


def fire_followup(ctx: Context, row: Deadline) -> None:
    """The watch is over: the admins confirm the system stable or reopen the repair (the card
    with those buttons, and a reminder saying so)."""
    repair = ctx.session.get(Repair, row.subject_id)
    if repair is None or repair.state != s.COMPLETED:
        return
    whom = admins(ctx)
    subject = ref("repair", repair.id)

    def build(locale: str, _viewer) -> Text:
        hours = ctx.org.repairs.followup_hours
        text = ctx.i18n.t(
            locale, "repair.followup_due", ref=subject, system=repair.system, hours=hours
        )
        return Text(text, tone="warning")

    display.tell(ctx, s.MACHINE, repair, whom, build)
    display.show(ctx, CARDS, repair, to=whom)


TIMERS = {FOLLOWUP: fire_followup}
