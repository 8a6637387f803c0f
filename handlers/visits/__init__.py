"""Machine-room visit requests (document 000, steps 1, 2 and 7)."""

from handlers.visits import commands, lists, onsite, reminders  # noqa: F401  (registers)
