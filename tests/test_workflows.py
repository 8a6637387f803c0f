"""The workflow list is the only way in: every workflow package and every command group of the
domain is on it, every workflow's machine is named in both languages, and the core, Home, the
timers and the organisation file read it."""

import importlib
import pkgutil
from pathlib import Path

import handlers
from handlers.i18n import LOCALES
from handlers.kit import Workflow
from handlers.refs import PREFIXES
from handlers.registry import Commands
from handlers.workflows import BASICS, WORKFLOWS, OrgConfig

HANDLERS = Path(handlers.__file__).parent


def _modules():
    for info in pkgutil.walk_packages([str(HANDLERS)], "handlers."):
        yield importlib.import_module(info.name)


def test_every_workflow_package_is_on_the_list():
    declared = {
        m.__name__: m.WORKFLOW
        for m in _modules()
        if isinstance(getattr(m, "WORKFLOW", None), Workflow)
    }
    assert declared, "no workflow package found"
    missing = [name for name, wf in declared.items() if wf not in WORKFLOWS]
    assert missing == [], f"left out of handlers/workflows.py: {missing}"


def test_every_command_group_is_on_the_list():
    listed = {id(c) for c in BASICS} | {id(c) for w in WORKFLOWS for c in w.commands}
    groups = {
        f"{m.__name__}.{name}": value
        for m in _modules()
        for name, value in vars(m).items()
        if isinstance(value, Commands)
    }
    assert [name for name, group in groups.items() if id(group) not in listed] == []


def test_every_machine_has_a_reference_letter_and_words_in_both_languages(chat):
    i18n = chat.core.i18n
    for w in WORKFLOWS:
        machine = w.cards.machine
        assert machine.kind in PREFIXES, machine.kind
        keys = [machine.state_label.format(state=s) for s in machine.states]
        keys += [f"audit.{machine.kind}.{t.action}" for t in machine.steps]
        keys.append(machine.not_now)
        missing = [(loc, k) for k in keys for loc in LOCALES if not i18n.has(loc, k)]
        assert missing == [], (w.name, missing)


def test_the_core_reads_everything_from_the_list(chat):
    core = chat.core
    for w in WORKFLOWS:
        assert all(core.firers[kind] is fire for kind, fire in w.timers.items())
        assert set(w.periodic) <= set(core.periodic)
        assert set(w.home) <= set(core.registry.home)
        assert w.name in OrgConfig.model_fields
        routed = OrgConfig.model_validate({"channels": {w.cards.channel: {"slack": "C1"}}})
        assert routed.channels[w.cards.channel].slack == "C1"
