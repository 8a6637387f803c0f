"""The repair state machine, as data. A repair is under way from its start: its engineers (or
an admin) record steps, parts, checks and readings, then complete it (the checklist all passed
or not applicable, unless a supervisor overrides). The business owners verify it; the admins
watch it for the follow-up period and confirm it stable, or reopen it."""

from handlers.kit import Machine, Owner, Step
from storage.models import Repair

IN_PROGRESS = "in_progress"
COMPLETED = "completed"  # under follow-up
STABLE = "stable"

OPEN = (IN_PROGRESS,)

WORKS = {"role": "admin", "owner": Owner("engineer_ids", "error.repair_not_engineer")}
OWNS = {"owner": Owner("owner_ids", "error.repair_not_owner")}
WATCH = {"role": "admin"}

MACHINE = Machine(
    kind="repair",
    model=Repair,
    created="start",
    steps=(
        Step("step", (IN_PROGRESS,), None, **WORKS),
        Step("part", (IN_PROGRESS,), None, **WORKS),
        Step("check", (IN_PROGRESS,), None, **WORKS),
        Step("state", (IN_PROGRESS,), None, **WORKS),
        Step("complete", (IN_PROGRESS,), COMPLETED, **WORKS),
        # completing with checklist items open or failed: a supervisor's decision, with a reason
        Step("override", (IN_PROGRESS,), COMPLETED, role="supervisor"),
        Step("verify", (COMPLETED, STABLE), None, **OWNS),
        Step("stable", (COMPLETED,), STABLE, **WATCH),
        Step("reopen", (COMPLETED, STABLE), IN_PROGRESS, **WORKS),
        Step("lesson", (IN_PROGRESS, COMPLETED, STABLE), None),
        # a photo or a log, while it is under way or watched (handlers.attachments)
        Step("attach", (IN_PROGRESS, COMPLETED), None, **WORKS),
    ),
    state_label="state.repair_{state}",
    action_label="action.repair_{action}",
    not_now="error.repair_bad_state",
)
