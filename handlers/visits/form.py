"""The visit request form: typed ``key=value`` options → validated fields, or one clear error.

The same checks serve every adapter (a Slack modal submits the same keys).
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import forms, people
from handlers.context import Context
from handlers.errors import UserError
from handlers.forms import FormField
from handlers.grammar import parse_when
from handlers.refs import parse_ref, ref
from handlers.values import parse_bool, parse_duration, parse_list
from storage.models import Fault, Person, Room, Site

# canonical option → the words users may type for it (English and Chinese)
OPTIONS: dict[str, tuple[str, ...]] = {
    "at": ("when", "time", "start", "date", "时间", "日期", "访问时间", "开始"),
    "duration": ("for", "hours", "时长", "预计用时", "用时"),
    "room": ("site", "where", "机房", "房间", "地点"),
    "task": ("purpose", "description", "任务", "维修任务", "事由"),
    "company": ("org", "公司", "单位"),
    "contact": ("phone", "tel", "联系方式", "电话"),
    "id": ("identity", "证件"),
    "id_type": ("idtype", "证件类型"),
    "id_last4": ("id4", "last4", "证件后四位"),
    "certificates": ("certs", "cert", "资质", "证书"),
    "tools": ("tool", "equipment", "工具", "设备"),
    "responsible": ("owner", "contact_person", "负责人", "相关负责人"),
    "visitor": ("name", "访客", "姓名"),
    "emergency": ("urgent", "紧急", "应急"),
    "fault": ("incident", "故障"),
}
REQUIRED = ("at", "duration", "room", "task", "company", "contact", "id")
forms.form(
    "visit request",
    FormField("at", "datetime", required=True),
    FormField("duration", "duration", required=True),
    FormField("room", required=True),
    FormField("task", "multiline", required=True),
    FormField("id", required=True),
    FormField("company"),
    FormField("contact"),
    FormField("tools", "list"),
    FormField("certificates"),
    FormField("responsible"),
    FormField("visitor"),
    FormField("emergency", "bool"),
    FormField("fault"),
)
# free text cut to fit its column (storage.models.Visit): PostgreSQL and MariaDB refuse more
# the fault workflow's open states (handlers/faults/states.py OPEN): an emergency needs one
OPEN_FAULT_STATES = ("declared", "acknowledged")
TEXT_LIMITS = {"task": 2000, "company": 128, "contact": 64, "certificates": 256}
_ID_SPLIT = re.compile(r"^\s*(.+?)\s*[:：/ ]\s*([A-Za-z0-9*\- ]+?)\s*$")


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


@contextmanager
def about(key: str) -> Iterator[None]:
    """Attribute a user error raised inside to form field ``key`` (for inline errors)."""
    try:
        yield
    except UserError as err:
        err.field = err.field or key
        raise


def _duration(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    minutes = parse_duration(values["duration"])
    if minutes > ctx.org.visits.max_duration_hours * 60:
        raise UserError("error.visit_too_long", hours=ctx.org.visits.max_duration_hours)
    return {"duration_minutes": minutes}


def _text(key: str):
    return lambda ctx, values: {key: values[key][: TEXT_LIMITS[key]]}


# option → its parser, returning model fields; run in this order
PARSERS: dict[str, Callable[[Context, dict[str, str]], dict[str, Any]]] = {
    "at": lambda ctx, v: {"start_at": parse_when(v["at"], now=ctx.now(), tz=ctx.i18n.tz)},
    "duration": _duration,
    "room": lambda ctx, v: {"room_id": find_room(ctx.session, v["room"]).id},
    "id": lambda ctx, v: dict(zip(("id_type", "id_last4"), _identity(v), strict=True)),
    **{key: _text(key) for key in TEXT_LIMITS},
    "tools": lambda ctx, v: {"tools": parse_list(v["tools"])},
    "responsible": lambda ctx, v: {"responsible_id": people.find(ctx.session, v["responsible"]).id},
    "visitor": lambda ctx, v: {"visitor_name": v["visitor"][:128]},
    "emergency": lambda ctx, v: {"emergency": parse_bool(v["emergency"])},
    "fault": lambda ctx, v: {"fault_ref": ref("fault", parse_ref(v["fault"], expected="fault")[1])},
}


def validate(
    ctx: Context, values: dict[str, str], requester: Person, *, partial: bool = False
) -> dict[str, Any]:
    """Check a request (or, with ``partial``, an edit) and return model field values."""
    values = {k: v for k, v in values.items() if v != ""}
    defaults = {"company": requester.company, "contact": requester.phone}
    for key, default in defaults.items():
        if not partial and default and key not in values:
            values[key] = default
    if not partial:
        missing = [
            k
            for k in REQUIRED
            if k not in values and not (k == "id" and {"id_type", "id_last4"} <= values.keys())
        ]
        if missing:
            raise UserError("error.missing_fields", fields=missing, field=missing[0])
    fields: dict[str, Any] = {}
    for key, parse in PARSERS.items():
        present = key in values or (key == "id" and {"id_type", "id_last4"} & values.keys())
        if present:
            with about(key):
                fields.update(parse(ctx, values))
    return fields


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
