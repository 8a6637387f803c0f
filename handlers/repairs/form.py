"""The form that starts a repair record: the system, repair or planned maintenance, what it
answers (a fault, a visit or a shutdown), who works on it and who verifies it."""

from typing import Any

from handlers import people, systems
from handlers.context import Context
from handlers.errors import NotFound, UserError
from handlers.forms import Form, FormField
from handlers.refs import parse_ref, ref
from handlers.repairs import words
from handlers.values import parse_list
from storage.models import Fault, Shutdown, Visit

LINKED = {"fault": Fault, "visit": Visit, "shutdown": Shutdown}


def _system(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    """A system of the organisation file (the nearest names on a typo); free text when the
    file lists none."""
    text = values["system"].strip()[:128]
    if not ctx.org.systems:
        return {"system": text, "system_type": None, "site_code": None}
    spec = systems.find(ctx.org.systems, text)
    site = ctx.org.site(spec.site)
    return {"system": spec.name, "system_type": spec.type, "site_code": site and site.code}


def _kind(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    return {"kind": words.pick(values["kind"], words.KINDS, "error.repair_kind")}


def linked(ctx: Context, text: str):
    """The fault, visit or shutdown ``text`` names (it must exist), and its reference."""
    kind, ident = parse_ref(text)
    if kind not in LINKED:
        raise UserError("error.repair_link", value=text)
    row = ctx.session.get(LINKED[kind], ident)
    if row is None:
        raise NotFound("error.not_found", ref=ref(kind, ident))
    return row, ref(kind, ident)


def _link(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    return {"link_ref": linked(ctx, values["link"])[1]}


def _people(key: str, column: str):
    def read(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
        found = [people.find(ctx.session, word) for word in parse_list(values[key])]
        return {column: list(dict.fromkeys(p.id for p in found))}

    return read


FORM = Form(
    "repair start",
    (
        FormField("system", "text", True, ("server", "device", "系统", "设备", "服务器"),
                  parse=_system),
        FormField("kind", "text", False, ("type", "类型", "种类"), parse=_kind,
                  default=lambda ctx: words.REPAIR),
        FormField("link", "text", False, ("fault", "visit", "shutdown", "关联", "故障"),
                  parse=_link),
        FormField("engineers", "list", False, ("engineer", "工程师", "维修人员"),
                  parse=_people("engineers", "engineer_ids")),
        FormField("owner", "list", False, ("owners", "business", "业务负责人", "负责人"),
                  parse=_people("owner", "owner_ids")),
        FormField("task", "multiline", False, ("what", "description", "任务", "内容", "说明"),
                  limit=2000),
    ),
    words="repair.",
)  # fmt: skip
