"""Repair records (维修记录, document 000 §4–§8) and planned maintenance (document 001): steps by
phase, parts with their serials, the test checklist, readings before and after, the business
owner's verification, the maintenance report (维护报告) and the follow-up."""

from handlers.kit import Attachments, Workflow
from handlers.repairs import cards, closing, commands, lists, record, report, rules, timers

WORKFLOW = Workflow(
    name="repairs",
    commands=(commands.commands, record.commands, closing.commands, lists.commands),
    cards=cards.CARDS,
    timers=timers.TIMERS,
    home=("repair list pending", "repair list mine"),
    settings=rules.RepairRules,
    # photos and logs posted in its card's thread or sent to the bot; a file attached after the
    # completion is written into the archived report
    attachments=Attachments("attach", attached=report.rearchive),
)
