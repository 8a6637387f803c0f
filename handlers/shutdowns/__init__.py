"""Shutdown approvals (停机申请, document 000 §3): downtime windows with their impact, conflicts,
an approval chain, reminders, and a calendar people subscribe to."""

from handlers.kit import Workflow
from handlers.shutdowns import calendar, cards, commands, lists, rules, timers, window

WORKFLOW = Workflow(
    name="shutdowns",
    commands=(commands.commands, window.commands, lists.commands),
    cards=cards.CARDS,
    timers=timers.TIMERS,
    home=("shutdown list pending", "shutdown list mine"),
    settings=rules.ShutdownRules,
    examples=rules.examples,
    feeds={"shutdowns.ics": calendar.feed},
)
