"""The words of a repair record: the phases of a repair (document 000 §4–§6) and the stages of a
planned maintenance (document 001), the test checklist's items (000 §5) and their results, each
with the words users type for it in English and Chinese. Labels are in the catalogs
(``repair.phase_<name>``, ``repair.item_<name>``, ``repair.result_<name>``)."""

from handlers.errors import UserError

REPAIR, MAINTENANCE = "repair", "maintenance"
KINDS = {
    REPAIR: ("fix", "维修", "修复", "故障维修"),
    MAINTENANCE: ("planned", "保养", "维护", "计划维护"),
}

PHASES: dict[str, dict[str, tuple[str, ...]]] = {
    REPAIR: {  # 000 §4 safety measures, diagnosis, execution; §5 testing, restore; §6 closing
        "safety": ("preparation", "prepare", "安全", "准备", "安全措施", "维修前准备"),
        "diagnosis": ("diagnose", "诊断", "检查", "详细诊断"),
        "execution": ("execute", "fix", "action", "维修", "执行", "维修执行", "更换"),
        "testing": ("test", "tests", "测试", "全面测试"),
        "restore": ("restoring", "恢复", "逐步恢复", "上电"),
        "closing": ("close", "结束", "收尾", "结束维修"),
    },
    MAINTENANCE: {  # 001's stages
        "preparation": ("backup", "prepare", "准备", "备份", "数据备份"),
        "monitoring": ("monitor", "监控", "性能监控"),
        "interruption": ("notice", "downtime", "停服", "服务中断", "停机通知"),
        "cleaning": ("care", "clean", "清理", "保养", "清洁"),
        "updates": ("update", "upgrade", "更新", "升级", "系统更新"),
        "verification": ("trial", "verify", "验证", "试运行", "测试"),
        "online": ("back_online", "上线", "恢复上线", "恢复服务"),
    },
}
FINDINGS = "diagnosis"  # the phase whose steps are the diagnosis report's findings

# 000 §5: hardware check, boot, self-test, network connectivity, business function
ITEMS: dict[str, tuple[str, ...]] = {
    "hardware": ("hw", "硬件", "硬件检测", "硬件检查"),
    "boot": ("startup", "启动", "系统启动"),
    "selftest": ("self-test", "self_test", "post", "自检", "自检程序"),
    "network": ("net", "connectivity", "网络", "网络连通性", "连通性"),
    "business": ("function", "业务", "业务功能", "业务系统功能验证", "功能"),
}
DEFAULT_ITEMS = tuple(ITEMS)

PASS, FAIL, NA = "pass", "fail", "na"
RESULTS = {
    PASS: ("ok", "passed", "yes", "通过", "正常", "合格"),
    FAIL: ("failed", "no", "失败", "异常", "不通过", "不合格"),
    NA: ("n/a", "skip", "不适用", "无"),
}
BEFORE, AFTER = "before", "after"
MOMENTS = {BEFORE: ("pre", "维修前", "之前", "前"), AFTER: ("post", "维修后", "之后", "后")}
OK, PROBLEM = "ok", "problem"
ANSWERS = {
    OK: ("yes", "good", "confirm", "confirmed", "正常", "确认", "通过", "没问题"),
    PROBLEM: ("no", "bad", "issue", "problems", "有问题", "问题", "异常"),
}


def pick(word: str, table: dict[str, tuple[str, ...]], error: str, **params) -> str | None:
    """The name ``word`` means in ``table`` (a name or one of its words, any case); None, or
    ``error`` raised with the names when given."""
    folded = word.strip().casefold()
    for name, words in table.items():
        if folded == name or folded in (w.casefold() for w in words):
            return name
    if error:
        raise UserError(error, value=word, known=", ".join(table), **params)
    return None


def item_words(items: list[str]) -> dict[str, tuple[str, ...]]:
    """The words of a checklist's items: the default items' own, an organisation's item its
    name alone."""
    return {item: ITEMS.get(item, ()) for item in items}
