"""The repair card: the system, what it answers, who works on it, the phase reached and the last
steps, the parts (those not on the list of specified spare parts flagged), the checklist, the
readings, the verification and the follow-up; a card shown to one person has their buttons."""

from handlers import display, kit
from handlers.attachments.intake import count
from handlers.context import Actor, Context
from handlers.messages import Card, Field, Tone
from handlers.refs import ref
from handlers.repairs import report, views
from handlers.repairs import states as s
from storage.models import Repair

TONES: dict[str, Tone] = {s.IN_PROGRESS: "warning", s.COMPLETED: "info", s.STABLE: "success"}
BUTTONS = {
    "step": display.Button("repair step {ref}", "primary", "prompt.repair_step"),
    "part": display.Button("repair part {ref}", prompt="prompt.repair_part"),
    "check": display.Button("repair check {ref}", prompt="prompt.repair_check"),
    "state": display.Button("repair state {ref}", prompt="prompt.repair_state"),
    "complete": display.Button("repair complete {ref}", "primary"),
    "verify": display.Button("repair verify {ref}", "primary", "prompt.repair_verify"),
    "stable": display.Button("repair stable {ref}", "primary"),
    "reopen": display.Button("repair reopen {ref} reason=", "danger", "prompt.reason"),
}


def title(ctx: Context, locale: str, repair: Repair) -> str:
    kind = ctx.i18n.t(locale, f"repair.kind_{repair.kind}")
    return ctx.i18n.t(
        locale, "repair.card_title", ref=ref("repair", repair.id), kind=kind, system=repair.system
    )


def _verification(ctx: Context, locale: str, repair: Repair) -> str:
    """Who will verify it, while it is under way; then their answer, or that it is awaited."""
    owners = ", ".join(views.names(ctx, repair.owner_ids))
    if repair.state == s.IN_PROGRESS and not repair.verification:
        key = "repair.verify_by" if owners else "repair.no_owner"
        return ctx.i18n.t(locale, key, owners=owners)
    return report.verification(ctx, locale, repair)


def _followup(ctx: Context, locale: str, repair: Repair) -> str | None:
    if repair.state == s.COMPLETED and repair.followup_due_at:
        return ctx.i18n.t(locale, "repair.watching", until=ctx.i18n.fmt(repair.followup_due_at))
    if repair.state == s.STABLE and repair.stable_at:
        return ctx.i18n.t(locale, "repair.stable_since", at=ctx.i18n.fmt(repair.stable_at))
    return None


def repair_card(ctx: Context, locale: str, repair: Repair, viewer: Actor | None) -> Card:
    """The repair's card; ``viewer``: the one person it is shown to (None: a channel)."""
    t = lambda key, **kw: ctx.i18n.t(locale, key, **kw)  # noqa: E731
    reached = views.phase_reached(repair)
    site = f" ({repair.site_code})" if repair.site_code else ""
    fields = [
        Field(t("field.system"), f"{repair.system}{site}"),
        Field(t("field.link"), repair.link_ref or t("repair.no_link")),
        Field(t("field.engineers"), ", ".join(views.names(ctx, repair.engineer_ids))),
        Field(t("field.started"), f"{repair.started_by.name} · {ctx.i18n.fmt(repair.started_at)}"),
        Field(t("field.phase"), views.phase_label(ctx, locale, reached) if reached else "—"),
        Field(t("field.checklist"), views.tally(ctx, locale, repair)),
        Field(t("field.verification"), _verification(ctx, locale, repair)),
    ]
    if files := count(ctx, "repair", repair.id):
        fields.append(
            Field(
                t("field.files"), t("repair.files_count", count=files, ref=ref("repair", repair.id))
            )
        )
    if followup := _followup(ctx, locale, repair):
        fields.append(Field(t("field.followup"), followup))
    body = ctx.i18n.render(
        locale,
        "repair_card",
        repair=repair,
        steps=repair.steps[-views.LAST_STEPS :],
        more=max(0, len(repair.steps) - views.LAST_STEPS),
        phase=lambda p: views.phase_label(ctx, locale, p),
        checks=views.checks(ctx, locale, repair),
        before=views.readings(ctx, locale, repair.state_before),
        after=views.readings(ctx, locale, repair.state_after),
    )
    return Card(
        title=title(ctx, locale, repair),
        fields=fields,
        body=body,
        tone=TONES.get(repair.state, "info"),
        actions=display.buttons(ctx, s.MACHINE, repair, viewer, BUTTONS, locale),
        subject=ref("repair", repair.id),
        state=repair.state,
        state_label=t(f"state.repair_{repair.state}"),
    )


CARDS = kit.Cards(s.MACHINE, "repairs", repair_card)
