"""The shutdown request form: what goes down, when, why, how it comes back, and who is told."""

from typing import Any

from handlers import people, systems
from handlers.context import Context
from handlers.errors import NotFound, UserError
from handlers.forms import Form, FormField
from handlers.refs import parse_ref, ref
from handlers.values import parse_list
from storage.models import Fault, Visit


def _systems(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    """The systems named, as the organisation file spells them, all at one site."""
    named = [systems.find(ctx.org.systems, word) for word in parse_list(values["systems"])]
    if not named:
        raise UserError("error.shutdown_no_system")
    sites = sorted({s.site.upper() for s in named})
    if len(sites) > 1:
        raise UserError("error.shutdown_sites", sites=", ".join(sites))
    unique = list(dict.fromkeys(s.name for s in named))
    return {"systems": unique, "site_code": ctx.org.site(sites[0]).code}


def _people(key: str, column: str, ids: bool):
    """A list of people typed by handle, name or chat id: their ids, or their handles."""

    def read(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
        found = [people.find(ctx.session, word) for word in parse_list(values[key])]
        unique = {p.id: p for p in found}.values()
        return {column: [p.id if ids else p.handle for p in unique]}

    return read


def _link(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    """The visit or fault the window answers; it must exist (a dangling link helps nobody)."""
    kind, ident = parse_ref(values["link"])
    if kind not in ("visit", "fault"):
        raise UserError("error.shutdown_link", value=values["link"])
    if ctx.session.get(Visit if kind == "visit" else Fault, ident) is None:
        raise NotFound("error.not_found", ref=ref(kind, ident))
    return {"link_ref": ref(kind, ident)}


FORM = Form(
    "shutdown request",
    (
        FormField("systems", "list", True, ("system", "系统", "停机系统"), parse=_systems),
        FormField("start", "datetime", True, ("from", "at", "开始", "开始时间"),
                  column="starts_at"),
        FormField("end", "datetime", True, ("to", "until", "结束", "结束时间"), column="ends_at"),
        FormField("reason", "multiline", True, ("why", "原因", "事由"), limit=2000),
        FormField("impact", "multiline", True, ("业务影响", "影响"), limit=2000),
        FormField("rollback", "multiline", True, ("回退", "回滚", "回退方案"), limit=2000),
        FormField("backup", "text", True, ("备份", "备份确认"), limit=256),
        FormField("notify", "list", False, ("tell", "通知", "通知人员"),
                  parse=_people("notify", "notify", ids=False)),
        FormField("engineers", "list", False, ("engineer", "工程师", "实施人员"),
                  parse=_people("engineers", "engineer_ids", ids=True)),
        FormField("link", "text", False, ("visit", "fault", "关联"), parse=_link),
        FormField("emergency", "bool", False, ("urgent", "紧急")),
    ),
    words="shutdown.",
)  # fmt: skip
