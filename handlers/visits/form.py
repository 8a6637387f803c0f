"""The visit request form: typed ``key=value`` options → validated fields, or one clear error.

The same checks serve every adapter (a Slack modal submits the same keys).
"""

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import people
from handlers.context import Context
from handlers.errors import UserError
from handlers.forms import Form, FormField
from handlers.refs import parse_ref, ref
from handlers.values import parse_duration
from storage.models import Fault, Person, Room, Site

# the fault workflow's open states (handlers/faults/states.py OPEN): an emergency needs one
OPEN_FAULT_STATES = ("declared", "acknowledged")
_ID_SPLIT = re.compile(r"^\s*(.+?)\s*[:：/ ]\s*([A-Za-z0-9*\- ]+?)\s*$")
# the document type and number typed apart, instead of id=TYPE:NUMBER
IDENTITY_PARTS = {"id_type": ("idtype", "证件类型"), "id_last4": ("id4", "last4", "证件后四位")}


def _same(column, text: str):
    return func.lower(column) == text.strip().lower()


def find_room(session: Session, word: str) -> Room:
    """``SH1/A101``, a room code unique across sites, or a one-room site's code."""
    text = word.strip()
    site_code, _, room_code = text.rpartition("/")
    query = select(Room).join(Site)
    if site_code:
        where = (_same(Site.code, site_code), _same(Room.code, room_code))
        rooms = session.scalars(query.where(*where)).all()
    else:
        rooms = session.scalars(query.where(_same(Room.code, text))).all()
        rooms = rooms or session.scalars(query.where(_same(Site.code, text))).all()
    if len(rooms) == 1:
        return rooms[0]
    if rooms:
        matches = ", ".join(sorted(f"{r.site.code}/{r.code}" for r in rooms))
        raise UserError("error.ambiguous_room", value=word, matches=matches)
    known = ", ".join(
        f"{r.site.code}/{r.code}" for r in session.scalars(query.order_by(Site.code, Room.code))
    )
    raise UserError("error.unknown_room", value=word, known=known or "—")


def _identity(values: dict[str, str]) -> tuple[str, str]:
    """Document type and its last four characters; the full number is never kept."""
    id_type, number = values.get("id_type"), values.get("id_last4")
    if "id" in values:
        match = _ID_SPLIT.match(values["id"])
        if not match:
            raise UserError("error.bad_identity", value="…")
        id_type, number = match.group(1), match.group(2)
    digits = re.sub(r"[^A-Za-z0-9]", "", number or "")
    if not id_type or len(digits) < 4:
        raise UserError("error.bad_identity", value="…")
    return id_type.strip()[:32], digits[-4:].upper()


def _duration(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    minutes = parse_duration(values["duration"])
    if minutes > ctx.org.visits.max_duration_hours * 60:
        raise UserError("error.visit_too_long", hours=ctx.org.visits.max_duration_hours)
    return {"duration_minutes": minutes}


def _identity_columns(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    return dict(zip(("id_type", "id_last4"), _identity(values), strict=True))


def _fault(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    return {"fault_ref": ref("fault", parse_ref(values["fault"], expected="fault")[1])}


def _requester(ctx: Context) -> Person:
    """Whoever files the request: company and contact default to theirs."""
    return ctx.session.get(Person, ctx.actor.id)


def _room(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    return {"room_id": find_room(ctx.session, values["room"]).id}


def _responsible(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    return {"responsible_id": people.find(ctx.session, values["responsible"]).id}


# Read in this order; the lengths fit the columns of storage.models.Visit (PostgreSQL and
# MariaDB refuse more).
FORM = Form(
    "visit request",
    (
        FormField("at", "datetime", True, ("when", "time", "start", "date", "时间", "日期",
                  "访问时间", "开始"), column="start_at"),
        FormField("duration", "duration", True, ("for", "hours", "时长", "预计用时", "用时"),
                  parse=_duration),
        FormField("room", "text", True, ("site", "where", "机房", "房间", "地点"), parse=_room),
        FormField("task", "multiline", True, ("purpose", "description", "任务", "维修任务", "事由"),
                  limit=2000),
        FormField("id", "text", True, ("identity", "证件"), parse=_identity_columns,
                  instead=tuple(IDENTITY_PARTS)),
        FormField("company", "text", True, ("org", "公司", "单位"), limit=128,
                  default=lambda ctx: _requester(ctx).company),
        FormField("contact", "text", True, ("phone", "tel", "联系方式", "电话"), limit=64,
                  default=lambda ctx: _requester(ctx).phone),
        FormField("tools", "list", False, ("tool", "equipment", "工具", "设备")),
        FormField("certificates", "text", False, ("certs", "cert", "资质", "证书"), limit=256),
        FormField("responsible", "text", False, ("owner", "contact_person", "负责人", "相关负责人"),
                  parse=_responsible),
        FormField("visitor", "text", False, ("name", "访客", "姓名"), column="visitor_name",
                  limit=128),
        FormField("emergency", "bool", False, ("urgent", "紧急", "应急")),
        FormField("fault", "text", False, ("incident", "故障"), parse=_fault),
    ),
)  # fmt: skip


def check_timing(ctx: Context, start_at, emergency: bool, fault_ref: str | None) -> None:
    """No past dates; at least ``lead_time_days`` calendar days ahead unless an emergency."""
    now = ctx.now()
    if emergency:
        _check_open_fault(ctx, fault_ref)
        if start_at < now - timedelta(minutes=15):
            raise UserError("error.past_date", value=ctx.i18n.local(start_at), field="at")
        return
    if start_at <= now:
        raise UserError("error.past_date", value=ctx.i18n.local(start_at), field="at")
    lead = ctx.org.visits.lead_time_days
    days_ahead = (ctx.i18n.local(start_at).date() - ctx.i18n.local(now).date()).days
    if days_ahead < lead:
        earliest = ctx.i18n.local(now).date() + timedelta(days=lead)
        raise UserError("error.lead_time", days=lead, earliest=earliest.isoformat(), field="at")


def _check_open_fault(ctx: Context, fault_ref: str | None) -> None:
    """An emergency skips the lead time only for a fault that exists and is still open."""
    if not fault_ref:
        raise UserError("error.emergency_needs_fault", field="fault")
    fault = ctx.session.get(Fault, parse_ref(fault_ref, expected="fault")[1])
    if fault is None:
        raise UserError("error.emergency_fault_unknown", ref=fault_ref, field="fault")
    if fault.state not in OPEN_FAULT_STATES:
        raise UserError(
            "error.emergency_fault_not_open", ref=fault_ref, state=fault.state, field="fault"
        )
