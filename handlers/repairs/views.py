"""What a repair record shows, shared by its card, its report and the fault report: names,
the phase reached, the checklist with its answers, the readings, the time it took."""

from dataclasses import dataclass

from handlers.context import Context
from handlers.repairs import words
from handlers.repairs.words import FAIL, NA, PASS
from storage.models import Person, Repair

LAST_STEPS = 5  # the steps a card shows


def names(ctx: Context, ids: list[int]) -> list[str]:
    return [p.name for i in ids if (p := ctx.session.get(Person, i)) is not None]


def phase_label(ctx: Context, locale: str, phase: str) -> str:
    return ctx.i18n.t(locale, f"repair.phase_{phase}")


def phase_reached(repair: Repair) -> str | None:
    """The furthest phase (in the order of the kind's phases) that has a step."""
    order = list(words.PHASES[repair.kind])
    done = [order.index(s.phase) for s in repair.steps if s.phase in order]
    return order[max(done)] if done else None


def item_label(ctx: Context, locale: str, item: str) -> str:
    """A checklist item's name: the catalog's for 000 §5's items, as the file names it else."""
    key = f"repair.item_{item}"
    return ctx.i18n.t(locale, key) if item in words.ITEMS else item


@dataclass(frozen=True)
class Check:
    item: str
    label: str
    result: str | None  # pass | fail | na; None: open
    note: str | None
    by: str | None


def checks(ctx: Context, locale: str, repair: Repair) -> list[Check]:
    rows = []
    for item in repair.checklist_items:
        answer = repair.checklist.get(item) or {}
        rows.append(
            Check(item, item_label(ctx, locale, item), answer.get("result"), answer.get("note"),
                  answer.get("by"))
        )  # fmt: skip
    return rows


def unfinished(repair: Repair) -> list[str]:
    """The checklist items still open or failed."""
    answers = repair.checklist
    return [
        i for i in repair.checklist_items if (answers.get(i) or {}).get("result") in (None, FAIL)
    ]


def tally(ctx: Context, locale: str, repair: Repair) -> str:
    """``3 passed · 1 failed · 1 open`` (the non-zero counts)."""
    results = [c.result for c in checks(ctx, locale, repair)]
    counts = {PASS: 0, FAIL: 0, NA: 0, None: 0}
    for result in results:
        counts[result] += 1
    return ctx.i18n.t(locale, "repair.tally", counts={k or "open": v for k, v in counts.items()})


def readings(ctx: Context, locale: str, values: dict | None) -> str:
    """``status: ok · temperature: 22 · humidity: 45`` (a number without a needless .0)."""
    if not values:
        return "—"
    shown = []
    for key, value in values.items():
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        shown.append(f"{ctx.i18n.t(locale, f'repair.reading_{key}')}: {value}")
    return " · ".join(shown)


def duration(ctx: Context, locale: str, repair: Repair) -> str:
    """From the start to the completion, in hours and minutes ("—" before it is completed)."""
    if repair.completed_at is None:
        return "—"
    minutes = int((repair.completed_at - repair.started_at).total_seconds() // 60)
    if minutes < 1:
        return ctx.i18n.t(locale, "repair.under_a_minute")
    return ctx.i18n.t(locale, "duration", hours=minutes // 60, minutes=minutes % 60)
