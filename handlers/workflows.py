"""The one list of what the bot does. The core reads its commands, deadline firers, periodic
jobs and Home sections from here, and the organisation file's sections; a workflow left out of
``WORKFLOWS`` does not exist (and a test says so)."""

from handlers import (
    audit_cmd,
    faults,
    help_cmd,
    home,
    oncall,
    people,
    repairs,
    shutdowns,
    visits,
)
from handlers.kit import Workflow
from handlers.orgconfig import assemble

# commands every organisation has, beside the workflows
BASICS = (help_cmd.commands, home.commands, people.commands, audit_cmd.commands, oncall.commands)
WORKFLOWS: tuple[Workflow, ...] = (
    visits.WORKFLOW,
    shutdowns.WORKFLOW,
    faults.WORKFLOW,
    repairs.WORKFLOW,
)

OrgConfig = assemble(
    {w.name: w.settings for w in WORKFLOWS if w.settings},
    channels=[w.cards.channel for w in WORKFLOWS if w.cards],
)
