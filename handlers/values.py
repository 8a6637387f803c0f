"""Option values typed in chat: durations, yes/no answers and lists, in English and Chinese."""

import re
from decimal import Decimal

from handlers.errors import UserError
from handlers.grammar import cn_to_digits, normalise

_DUR_UNITS = (
    dict.fromkeys(("d", "day", "days", "天"), 1440)
    | dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "小时", "钟头"), 60)
    | dict.fromkeys(("m", "min", "mins", "minute", "minutes", "分钟", "分"), 1)
)
_DUR_PART = r"(\d+(?:\.\d+)?)(?:个)?([a-z]+|小时|钟头|分钟|分|天)"
MAX_DURATION = 7 * 24 * 60


def parse_duration(text: str) -> int:
    """Parse ``2h``, ``90m``, ``1h30m``, ``1.5h``, ``45min``, ``2 hours``, ``2小时``, ``30分钟``,
    ``1小时30分钟``, ``半小时``, ``一个半小时`` into whole minutes, 1 minute to 7 days.

    A bare number is rejected: minutes or hours would be a guess.
    """
    s = re.sub(r"\s+", "", cn_to_digits(normalise(text).lower()))
    s = s.replace("个半小时", ".5小时").replace("半小时", "30分钟")
    if not re.fullmatch(f"(?:{_DUR_PART})+", s):
        raise UserError("error.bad_duration", value=text)
    total = Decimal(0)
    for number, unit in re.findall(_DUR_PART, s):
        if unit not in _DUR_UNITS:
            raise UserError("error.bad_duration", value=text)
        total += Decimal(number) * _DUR_UNITS[unit]
    if total != total.to_integral_value() or not 0 < total <= MAX_DURATION:
        raise UserError("error.bad_duration", value=text)
    return int(total)


_TRUE = {"yes", "y", "true", "1", "ok", "okay", "on", "是", "有", "对", "已", "好"}
_TRUE |= {"是的", "好的", "确认", "已确认"}
_FALSE = {"no", "n", "false", "0", "off"} | {"否", "无", "不", "未", "不是", "没有", "未确认"}


def parse_bool(text: str) -> bool:
    """Yes/no in English or Chinese: ``yes``, ``on``, ``是``, ``已确认`` / ``no``, ``否``."""
    s = normalise(text).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise UserError("error.bad_bool", value=text)


def parse_list(text: str) -> list[str]:
    """Split on ``,`` ``，`` ``、`` ``;`` ``；`` and newlines; strip items, drop empty ones."""
    return [item.strip() for item in re.split(r"[,，、;；\n]", text) if item.strip()]


def parse_reading(text: str) -> float | str:
    """A reading of a system's state kept as a number where it is one (``22.5``, ``45%``,
    ``22°C``), else as typed (``ok``, ``正常``)."""
    try:
        return float(text.removesuffix("%").removesuffix("°C").strip())
    except ValueError:
        return text
