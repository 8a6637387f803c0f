"""The maintenance report (维护报告, document 000 §6): written at completion from
``repair_report.j2`` in both languages and archived on the record (each reader later gets the
archived text in their language, ``repair report R-3``), posted to the repairs channel and given
to the engineers as a Markdown file, as the fault handling report is. A verification given after
completion is written into the archived report."""

from handlers import audit, display, notify
from handlers.context import Context
from handlers.i18n import LOCALES
from handlers.messages import File, Text
from handlers.refs import ref
from handlers.repairs import states as s
from handlers.repairs import views, words
from storage.models import Person, Repair


def _completed_by(ctx: Context, repair: Repair) -> str | None:
    moves = [e for e in audit.entries(ctx.session, "repair", repair.id)
             if e.action in ("repair.complete", "repair.override")]  # fmt: skip
    return audit.name_of(moves[-1]) if moves else None


def verification(ctx: Context, locale: str, repair: Repair) -> str:
    t = lambda key, **kw: ctx.i18n.t(locale, key, **kw)  # noqa: E731
    if repair.verification:
        v = repair.verification
        return t(f"repair.verified_{v['answer']}", by=v["by"], feedback=v.get("feedback") or "")
    owners = ", ".join(views.names(ctx, repair.owner_ids))
    return t("repair.verify_waiting", owners=owners) if owners else t("repair.no_owner")


def render(ctx: Context, locale: str, repair: Repair) -> str:
    """The report as the record stands now."""
    steps = list(repair.steps)
    findings = None
    if repair.kind == words.REPAIR:
        findings = [x for x in steps if x.phase == words.FINDINGS]
        steps = [x for x in steps if x.phase != words.FINDINGS]
    phases = [
        (views.phase_label(ctx, locale, phase), [x for x in steps if x.phase == phase])
        for phase in words.PHASES[repair.kind]
    ]
    return ctx.i18n.render(
        locale,
        "repair_report",
        repair=repair,
        ref=ref("repair", repair.id),
        kind=ctx.i18n.t(locale, f"repair.kind_{repair.kind}"),
        engineers=", ".join(views.names(ctx, repair.engineer_ids)),
        completed_by=_completed_by(ctx, repair),
        duration=views.duration(ctx, locale, repair),
        findings=findings,
        phases=[(label, rows) for label, rows in phases if rows],
        parts=repair.parts,
        checks=views.checks(ctx, locale, repair),
        before=views.readings(ctx, locale, repair.state_before),
        after=views.readings(ctx, locale, repair.state_after),
        verification=verification(ctx, locale, repair),
    )


def archive(ctx: Context, repair: Repair) -> None:
    """Write the report in every language onto the record."""
    ctx.session.flush()
    ctx.session.refresh(repair)
    repair.report = {locale: render(ctx, locale, repair) for locale in LOCALES}


def archived(ctx: Context, locale: str, repair: Repair) -> str | None:
    report = repair.report or {}
    return report.get(ctx.i18n.locale(locale)) or next(iter(report.values()), None)


def as_file(ctx: Context, locale: str, repair: Repair) -> File:
    subject = ref("repair", repair.id)
    caption = ctx.i18n.t(locale, "repair.report_caption", ref=subject)
    return File(
        f"{subject}-report.md", archived(ctx, locale, repair) or "", "text/markdown", caption
    )


def publish(ctx: Context, repair: Repair) -> None:
    """The archived report in the repair's thread (under its card in the repairs channel, or
    the channel itself where there are no threads), as text and as a file; as a file to the
    actor and the other engineers (each in their language)."""
    subject = ref("repair", repair.id)
    notify.thread(ctx, "repairs", lambda loc, _v: Text(archived(ctx, loc, repair) or ""), subject)
    notify.thread(ctx, "repairs", lambda loc, _v: as_file(ctx, loc, repair), subject)
    ctx.reply(as_file(ctx, ctx.locale, repair))
    engineers = [ctx.session.get(Person, i) for i in repair.engineer_ids]
    display.tell(ctx, s.MACHINE, repair, engineers, lambda loc, _v: as_file(ctx, loc, repair))
