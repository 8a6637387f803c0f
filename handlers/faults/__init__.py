"""Fault declarations: tiers with contract deadlines, countdown cards and escalation."""

from handlers.faults import cards, commands, lists, rules, timers
from handlers.kit import Workflow

WORKFLOW = Workflow(
    name="faults",
    commands=(commands.commands, lists.commands),
    cards=cards.CARDS,
    timers=timers.TIMERS,
    periodic=(timers.COUNTDOWNS,),
    home=("fault list mine",),
    settings=rules.FaultRules,
)
