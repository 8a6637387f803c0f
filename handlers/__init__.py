"""The platform-neutral core: command grammar, domain services, state machines, deadlines.

Never imports bot/, slack_bolt, slack_sdk or wechatpy.
"""
