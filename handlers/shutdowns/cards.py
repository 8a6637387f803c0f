"""The shutdown card: the window, what goes down with what it takes along, the approvals asked
and given, and what the rules warn of; a card shown to one person offers their buttons only."""

from handlers import display, kit, notify
from handlers.context import Actor, Context
from handlers.messages import Card, Field, Tone
from handlers.refs import ref
from handlers.shutdowns import checks, impact
from handlers.shutdowns import states as s
from storage.models import Person, Shutdown

TONES: dict[str, Tone] = {
    s.APPROVED: "success",
    s.IN_PROGRESS: "warning",
    s.EXTENSION: "warning",
    s.COMPLETED: "info",
    s.REJECTED: "danger",
    s.CANCELLED: "warning",
    s.CHANGES: "warning",
}
BUTTONS = {
    "approve": display.Button("shutdown approve {ref}", "primary"),
    "changes": display.Button("shutdown changes {ref} note=", prompt="prompt.changes"),
    "reject": display.Button("shutdown reject {ref} reason=", "danger", "prompt.reason"),
    "begin": display.Button("shutdown begin {ref}", "primary", "prompt.shutdown_begin"),
    "extend": display.Button("shutdown extend {ref}", prompt="prompt.shutdown_extend"),
    "complete": display.Button("shutdown complete {ref}", "primary", "prompt.shutdown_complete"),
    "cancel": display.Button("shutdown cancel {ref} reason=", "danger", "prompt.reason"),
}


def window_text(ctx: Context, shutdown: Shutdown) -> str:
    """``2026-12-06 02:00 – 06:00`` (the end's date too when it is another day)."""
    start, end = ctx.i18n.local(shutdown.starts_at), ctx.i18n.local(shutdown.ends_at)
    shown = end.strftime("%H:%M") if end.date() == start.date() else ctx.i18n.fmt(end)
    return f"{ctx.i18n.fmt(shutdown.starts_at)} – {shown}"


def told(ctx: Context, locale: str, shutdown: Shutdown) -> str:
    """Who hears of the shutdown besides those who file and approve it: people (marked when no
    platform the bot serves reaches them), then channels."""
    names = [
        p.name
        if notify.reaches(ctx, p)
        else ctx.i18n.t(locale, "shutdown.unreachable", name=p.name)
        for p in impact.told(ctx, shutdown)
    ]
    return ", ".join([*names, *(f"#{name}" for name, _ in impact.channels(ctx, shutdown))]) or "—"


def engineers(ctx: Context, shutdown: Shutdown) -> list[str]:
    return [ctx.session.get(Person, i).name for i in shutdown.engineer_ids]


def approvals(ctx: Context, locale: str, shutdown: Shutdown) -> list[dict]:
    """Each step of the chain: who may take it, and who took it (or "waiting" / "to come")."""
    rows = []
    for i, step in enumerate(shutdown.chain):
        if "role" in step:
            who = ctx.i18n.t(locale, f"role.{step['role']}")
        else:
            who = ctx.i18n.t(locale, "shutdown.owners_of", system=step.get("system", ""))
        if i < shutdown.approved_steps:
            status = ctx.session.get(Person, shutdown.approver_ids[i]).name
        elif i == shutdown.approved_steps and shutdown.state == s.REQUESTED:
            status = ctx.i18n.t(locale, "shutdown.waiting")
        else:
            status = ctx.i18n.t(locale, "shutdown.to_come")
        rows.append({"who": who, "status": status, "done": i < shutdown.approved_steps})
    return rows


def shutdown_card(ctx: Context, locale: str, shutdown: Shutdown, viewer: Actor | None) -> Card:
    """The shutdown's card; ``viewer``: the one person it is shown to (None: a channel)."""
    t = lambda key, **kw: ctx.i18n.t(locale, key, **kw)  # noqa: E731
    r = ref("shutdown", shutdown.id)
    site = ctx.org.site(shutdown.site_code)
    fields = [
        Field(t("field.window"), window_text(ctx, shutdown)),
        Field(t("field.site"), f"{site.name if site else ''} {shutdown.site_code}".strip()),
        Field(t("field.systems"), ", ".join(shutdown.systems)),
        Field(t("field.taken_along"), ", ".join(impact.taken_along(ctx, shutdown)) or "—"),
        Field(t("field.backup"), shutdown.backup),
        Field(t("field.requester"), shutdown.requester.name),
        Field(t("field.engineers"), ", ".join(engineers(ctx, shutdown))),
        Field(t("field.told"), told(ctx, locale, shutdown)),
    ]
    if shutdown.link_ref:
        fields.append(Field(t("field.link"), shutdown.link_ref))
    booked = shutdown.state in s.OPEN
    body = ctx.i18n.render(
        locale,
        "shutdown_card",
        shutdown=shutdown,
        approvals=approvals(ctx, locale, shutdown),
        conflicts=checks.conflicts(ctx, shutdown) if booked else [],
        outside=checks.outside_windows(ctx, shutdown) if booked else [],
        booked=checks.engineers_booked(ctx, shutdown) if booked else [],
    )
    return Card(
        title=t("shutdown.card_title", ref=r, systems=", ".join(shutdown.systems)),
        fields=fields,
        body=body,
        tone=TONES.get(shutdown.state, "info"),
        actions=display.buttons(ctx, s.MACHINE, shutdown, viewer, BUTTONS, locale),
        subject=r,
        state=shutdown.state,
        state_label=t(f"state.shutdown_{shutdown.state}"),
    )


CARDS = kit.Cards(s.MACHINE, "shutdowns", shutdown_card)
