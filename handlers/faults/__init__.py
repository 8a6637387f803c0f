"""Fault declarations: tiers with contract deadlines, countdown cards and escalation."""

from handlers.faults import clocks, commands  # noqa: F401  (register commands and firers)
