"""Machine-room visit requests (document 000, steps 1, 2 and 7)."""

from handlers.kit import Workflow
from handlers.visits import cards, commands, lists, onsite, rules, timers

WORKFLOW = Workflow(
    name="visits",
    commands=(commands.commands, lists.commands, onsite.commands),
    cards=cards.CARDS,
    timers=timers.TIMERS,
    home=("visit list pending", "visit list mine"),
    settings=rules.VisitRules,
    examples=rules.examples,
)
