"""The maintenance report (维护报告) as a PDF, laid out from the same facts as the Markdown
(``report.context``, archived on the record): the title, the summary, the findings, the actions
by phase, the parts with their serials, the test checklist, the readings before and after, the
business verification and the lessons learned. Every word around the facts is the catalog's."""

from typing import Any

from handlers.i18n import I18n
from handlers.pdf import MUTED, Report


def build(i18n: I18n, locale: str, r: dict[str, Any]) -> bytes:
    t = lambda key, **kw: i18n.t(locale, key, **kw)  # noqa: E731
    footer = lambda page, pages: t("repair.rpt_page", ref=r["ref"], page=page, pages=pages)  # noqa: E731
    pdf = Report(t("repair.rpt_title", ref=r["ref"]), footer, "zh-CN" if locale == "zh" else "en")
    subtitle = f"{r['kind']} · {r['system']}" + (f" — {r['task']}" if r.get("task") else "")
    pdf.headline(t("repair.rpt_title", ref=r["ref"]), subtitle)
    at_by = lambda at, who: t("repair.rpt_at_by", at=at, who=who) if who else at  # noqa: E731
    pdf.pairs([
        (t("repair.rpt_system"), r["system"]),
        (t("repair.rpt_site"), r.get("site") or "—"),
        (t("repair.rpt_link"), r.get("link") or "—"),
        (t("repair.rpt_started"), at_by(r["started_at"], r["started_by"])),
        (t("repair.rpt_engineers"), r["engineers"]),
        (t("repair.rpt_completed"), at_by(r.get("completed_at") or "—", r.get("completed_by"))),
        (t("repair.rpt_duration"), r["duration"]),
    ])  # fmt: skip

    def steps(rows: list[dict]) -> None:
        cells = [
            (f"#{s['number']}", s["at"], s["by"],
             s["text"] + (f" {t('repair.rpt_corrects', number=s['corrects'])}"
                          if s.get("corrects") else ""))
            for s in rows
        ]  # fmt: skip
        header = (t("repair.rpt_number"), t("repair.rpt_time"), t("repair.rpt_by"),
                  t("repair.rpt_step"))  # fmt: skip
        pdf.table_of(header, cells, (11, 30, 26, 107))

    if r.get("findings") is not None:
        pdf.heading(t("repair.rpt_findings"))
        if r["findings"]:
            steps(r["findings"])
        else:
            pdf.paragraph(t("repair.rpt_none_recorded"), MUTED)
    pdf.heading(t("repair.rpt_actions"))
    for phase in r["phases"]:
        pdf.heading(phase["label"], level=2)
        steps(phase["steps"])
    if not r["phases"]:
        pdf.paragraph(t("repair.rpt_none_recorded"), MUTED)

    pdf.heading(t("repair.rpt_parts"))
    if r["parts"]:
        header = [t(f"repair.rpt_{k}") for k in
                  ("model", "old_serial", "new_serial", "qty", "listed")]  # fmt: skip
        rows = [
            (p["model"] + (f"\n{p['note']}" if p.get("note") else ""), p["old_serial"] or "—",
             p["new_serial"] or "—", str(p["quantity"]), p["listed"])
            for p in r["parts"]
        ]  # fmt: skip
        pdf.table_of(header, rows, (48, 38, 38, 14, 36))
    else:
        pdf.paragraph(t("repair.rpt_none"), MUTED)

    pdf.heading(t("repair.rpt_tests"))
    header = [t(f"repair.rpt_{k}") for k in ("item", "result", "note", "by")]
    rows = [(c["label"], c["result"], c["note"], c["by"]) for c in r["checks"]]
    pdf.table_of(header, rows, (44, 28, 72, 30))
    if r.get("override"):
        pdf.paragraph(t("repair.rpt_override", **r["override"]))

    pdf.heading(t("repair.rpt_state"))
    pdf.pairs([(t("repair.rpt_before"), r["before"]), (t("repair.rpt_after"), r["after"])])
    pdf.heading(t("repair.rpt_files"))
    if files := r.get("files"):
        pdf.bullets([f"{f['name']} · {f['size']} · sha256 {f['sha256']}" for f in files])
    else:
        pdf.paragraph(t("repair.rpt_none"), MUTED)
    pdf.heading(t("repair.rpt_verification"))
    pdf.paragraph(r["verification"])
    if r.get("lessons"):
        pdf.heading(t("repair.rpt_lessons"))
        pdf.bullets([f"{x['by']}: {x['text']}" for x in r["lessons"]])
    return pdf.to_bytes()
