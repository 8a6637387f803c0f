"""The maintenance report (维护报告, document 000 §6): written at completion in both languages
and archived on the record — its facts (``context``: plain values, times as shown, labels in the
language) and the Markdown written from them by ``repair_report.j2`` — posted to the repairs
channel and given to the engineers as a Markdown file and as a PDF (``report_pdf``), both
written from the same facts; ``repair report R-3`` gives them again later. The PDF is drawn from
the archived facts whenever it is asked for rather than stored: the facts are a few kilobytes,
the PDF tens, and what it says cannot drift from the Markdown. A verification or a lesson given
after completion is written into the archived report."""

from typing import Any

from handlers import audit, display, notify
from handlers.attachments.files import display_size
from handlers.attachments.intake import listed as attached
from handlers.context import Context
from handlers.i18n import LOCALES
from handlers.messages import File, Text
from handlers.refs import ref
from handlers.repairs import report_pdf, views, words
from handlers.repairs import states as s
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


def _step(ctx: Context, locale: str, step) -> dict:
    return {"number": step.number, "at": ctx.i18n.fmt(step.at), "by": step.author.name,
            "text": step.text, "corrects": step.corrects}  # fmt: skip


def context(ctx: Context, locale: str, repair: Repair) -> dict[str, Any]:
    """The report's facts in ``locale``, as plain JSON-safe values (times as shown, labels in
    the language): what the Markdown and the PDF are both written from, archived with them."""
    t = lambda key, **kw: ctx.i18n.t(locale, key, **kw)  # noqa: E731
    steps = list(repair.steps)
    findings = None
    if repair.kind == words.REPAIR:
        findings = [_step(ctx, locale, x) for x in steps if x.phase == words.FINDINGS]
        steps = [x for x in steps if x.phase != words.FINDINGS]
    phases = [
        {"label": views.phase_label(ctx, locale, phase),
         "steps": [_step(ctx, locale, x) for x in steps if x.phase == phase]}
        for phase in words.PHASES[repair.kind]
    ]  # fmt: skip
    listed = {True: "yes", False: "no", None: "none"}
    return {
        "ref": ref("repair", repair.id),
        "kind": t(f"repair.kind_{repair.kind}"),
        "system": repair.system,
        "site": repair.site_code,
        "task": repair.task,
        "link": repair.link_ref,
        "started_at": ctx.i18n.fmt(repair.started_at),
        "started_by": repair.started_by.name,
        "engineers": ", ".join(views.names(ctx, repair.engineer_ids)),
        "completed_at": ctx.i18n.fmt(repair.completed_at) or None,
        "completed_by": _completed_by(ctx, repair),
        "duration": views.duration(ctx, locale, repair),
        "findings": findings,
        "phases": [p for p in phases if p["steps"]],
        "parts": [
            {
                "model": p.model,
                "old_serial": p.old_serial,
                "new_serial": p.new_serial,
                "quantity": p.quantity,
                "listed": t(f"repair.rpt_listed_{listed[p.listed]}"),
                "flagged": p.listed is False,
                "note": p.note,
            }
            for p in repair.parts
        ],
        "checks": [
            {
                "label": c.label,
                "result": t(f"repair.result_{c.result or 'open'}"),
                "state": c.result or "open",
                "note": c.note or "",
                "by": c.by or "",
            }
            for c in views.checks(ctx, locale, repair)
        ],
        "override": repair.override and {k: repair.override[k] for k in ("by", "reason")},
        "before": views.readings(ctx, locale, repair.state_before),
        "after": views.readings(ctx, locale, repair.state_after),
        "verification": verification(ctx, locale, repair),
        "lessons": [{"by": x["by"], "text": x["text"]} for x in repair.lessons],
        "files": [
            {"name": a.name, "size": display_size(a.size), "sha256": a.sha256[:12]}
            for a in attached(ctx, "repair", repair.id)
        ],
    }


def render(ctx: Context, locale: str, data: dict[str, Any], *, plain: bool = False) -> str:
    """The report in Markdown, from its facts (``context``); ``plain``: what people typed left
    unescaped, for the report posted in chat as text."""
    return ctx.i18n.render(locale, "repair_report", r=data, plain=plain)


def as_text(ctx: Context, locale: str, repair: Repair) -> Text:
    """The archived report as a chat message: its facts written out, as typed."""
    data = archived_data(ctx, locale, repair)
    return Text(render(ctx, locale, data, plain=True) if data else "")


def archive(ctx: Context, repair: Repair) -> None:
    """Write the report in every language onto the record: the facts and the Markdown."""
    ctx.session.flush()
    ctx.session.refresh(repair)
    data = {locale: context(ctx, locale, repair) for locale in LOCALES}
    repair.report_data = data
    repair.report = {locale: render(ctx, locale, data[locale]) for locale in LOCALES}


def rearchive(ctx: Context, repair: Repair) -> None:
    """A report already archived is written again (a file attached after the completion)."""
    if repair.report:
        archive(ctx, repair)


def archived(ctx: Context, locale: str, repair: Repair) -> str | None:
    report = repair.report or {}
    return report.get(ctx.i18n.locale(locale)) or next(iter(report.values()), None)


def archived_data(ctx: Context, locale: str, repair: Repair) -> dict[str, Any] | None:
    """The archived facts in ``locale``; for a report archived before they were kept, the
    record's as it stands (its steps and parts are never edited)."""
    if repair.report is None:
        return None
    data = repair.report_data or {}
    return data.get(ctx.i18n.locale(locale)) or context(ctx, ctx.i18n.locale(locale), repair)


def as_files(ctx: Context, locale: str, repair: Repair) -> list[File]:
    """The archived report as a Markdown file and as a PDF (drawn from the archived facts)."""
    subject = ref("repair", repair.id)
    markdown = File(f"{subject}-report.md", archived(ctx, locale, repair) or "", "text/markdown",
                    ctx.i18n.t(locale, "repair.report_caption", ref=subject))  # fmt: skip
    data = archived_data(ctx, locale, repair)
    if data is None:
        return [markdown]
    content = report_pdf.build(ctx.i18n, ctx.i18n.locale(locale), data)
    caption = ctx.i18n.t(locale, "repair.rpt_pdf_caption", ref=subject)
    return [markdown, File(f"{subject}-report.pdf", content, "application/pdf", caption)]


def publish(ctx: Context, repair: Repair) -> None:
    """The archived report in the repair's thread (under its card in the repairs channel, or
    the channel itself where there are no threads), as text and as files (Markdown and PDF);
    as files to the actor and the other engineers (each in their language)."""
    subject = ref("repair", repair.id)
    files = {}  # one PDF a language, however many read it

    def handed(locale: str) -> list[File]:
        if locale not in files:
            files[locale] = as_files(ctx, locale, repair)
        return files[locale]

    notify.thread(ctx, "repairs", lambda loc, _v: as_text(ctx, loc, repair), subject)
    mine = handed(ctx.i18n.locale(ctx.locale))
    engineers = [ctx.session.get(Person, i) for i in repair.engineer_ids]
    for index, file in enumerate(mine):
        ctx.reply(file)
        build = lambda loc, _v, i=index: handed(ctx.i18n.locale(loc))[i]  # noqa: E731
        notify.thread(ctx, "repairs", build, subject)
        display.tell(ctx, s.MACHINE, repair, engineers, build)
