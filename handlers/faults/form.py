"""The fault declaration form: what the contract's tiers need to know, and what is down."""

from handlers.faults import policy
from handlers.forms import Form, FormField

# Read in this order; the lengths fit the columns of storage.models.Fault.
FORM = Form(
    "fault declare",
    (
        FormField("title", "text", True, ("标题",), limit=200),
        FormField("tier", aliases=("级别",),
                  parse=lambda ctx, v: {"tier": policy.parse_tier(v["tier"])}),
        FormField("business_down", "bool", aliases=("业务中断", "down")),
        FormField("data_lost", "bool", aliases=("数据丢失", "lost")),
        FormField("system", aliases=("系统", "资产", "asset"), limit=128),
        FormField("site", aliases=("站点", "机房"), column="site_code", limit=32),
        FormField("description", "multiline", aliases=("描述", "desc")),
        FormField("impact", "multiline", aliases=("影响", "业务影响")),
    ),
)  # fmt: skip
