"""Tiers as the service contract (document 002) defines them, and the words people use for them.

Tier 1: business down and data lost — respond in 10 min, resolve in 2 h. Tier 2: business down,
no data lost — 20 min / 4 h. Tier 3: alarms only, no interruption — 30 min, no resolution target.
The organisation file may change the targets (``faults: tiers:``).
"""

import re
from datetime import datetime, timedelta

from handlers.errors import UserError
from handlers.orgconfig import Organisation

_WORDS = {
    1: ("1", "p1", "t1", "tier1", "sev1", "一级", "一", "1级", "i"),
    2: ("2", "p2", "t2", "tier2", "sev2", "二级", "二", "2级", "ii"),
    3: ("3", "p3", "t3", "tier3", "sev3", "三级", "三", "3级", "iii"),
}
TIER_WORDS = {word: tier for tier, words in _WORDS.items() for word in words}
_TIER_LIKE = re.compile(r"^(?:p|t|tier|sev|level)?\s*\d{1,2}$|^[一二三四五六七八九十]+级$", re.I)


def parse_tier(word: str) -> int:
    tier = TIER_WORDS.get(word.strip().casefold().replace(" ", ""))
    if tier is None:
        raise UserError("error.fault_bad_tier", value=word)
    return tier


def is_tier(word: str) -> bool:
    """A word meant as a tier (``P2``, ``二级``, ``7``…), valid or not: parse_tier judges."""
    return bool(_TIER_LIKE.match(word.strip())) or word.strip().casefold() in TIER_WORDS


def infer_tier(down: bool, lost: bool) -> int:
    """The contract's definitions: both → 1; business down only → 2; neither → 3. Data lost
    with the business still running is not in the contract: tier 2, as it needs more than an
    alarm's handling yet is not the contract's tier 1 (both). The card shows the answers with
    the tier (cards.tier_label), so its label never says "business down" for it."""
    if down and lost:
        return 1
    return 2 if down or lost else 3


def deadlines(org: Organisation, tier: int, declared_at: datetime, site: str | None = None):
    """(respond by, resolve by or None) for a fault of ``tier`` at ``site`` declared at
    ``declared_at``: the site's own targets, else its customer's, else the general ones."""
    spec = org.site(site)
    target = org.faults.target(tier, site, spec.customer if spec else None)
    resolve = target.resolve_minutes
    return (
        declared_at + timedelta(minutes=target.respond_minutes),
        declared_at + timedelta(minutes=resolve) if resolve else None,
    )
