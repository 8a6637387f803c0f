"""Fault declarations: tiers with contract deadlines, countdown cards and escalation."""

from handlers.faults import cards, clocks, commands, lists, rules
from handlers.kit import Workflow

WORKFLOW = Workflow(
    name="faults",
    commands=(commands.commands, lists.commands),
    cards=cards.CARDS,
    timers=clocks.TIMERS,
    periodic=(clocks.COUNTDOWNS,),
    home=("fault list mine",),
    settings=rules.FaultRules,
)
