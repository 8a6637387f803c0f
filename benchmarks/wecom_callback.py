"""WeCom callback benchmark (issue 4): encrypted text callbacks, 20 in flight, to `maintbot serve`
on loopback. Reports the HTTP answer's latency (WeCom retries after 5 s) and the time until the
bot's reply reaches the fake WeCom API, next to a floor in the same run: a bare Starlette app on
the same server stack that checks and decrypts each callback with wechatpy and answers.

    .venv/bin/python benchmarks/wecom_callback.py            # about a minute
    .venv/bin/python benchmarks/wecom_callback.py --help

Then the same load runs while the database is locked and while the fake API answers 3 s late:
the answer must stay under 5 s. Run it from a checkout: it uses tests/fake_wecom.py and
tests/wecom_requests.py. The exit status is 0 whatever the figures (a report, not a test).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.kit import maintbot
from benchmarks.kit.figures import pct, say
from benchmarks.kit.load import Load, Request, Sample
from benchmarks.kit.scratch import HeldLock, ScratchDatabase, scratch_dir
from benchmarks.kit.servers import SetupError, floor_server
from tests import wecom_requests as wr
from tests.fake_wecom import AGENT_ID, CORP_ID, SECRET, FakeWeCom

ANSWER_LIMIT = 5.0  # WeCom's wait before it retries
_users = itertools.count(1)


def callbacks() -> Callable[[], Request]:
    """A request builder for ``Load``: encrypted ``help`` texts, each from a new user id (the
    request's kind), so that each reply can be matched to its request."""
    cb = wr.WeComCallback()

    def next_request() -> Request:
        user = f"bench{next(_users)}"
        query, body = cb.text(user, "help")
        path = "/wecom/callback?" + urllib.parse.urlencode(query)
        return user, path, {"Content-Type": "text/xml"}, body

    return next_request


def figures(samples: list[Sample], seconds: float) -> dict:
    ok = sorted(s.latency for s in samples if s.status == 200)
    return {"requests": len(samples), "errors": len(samples) - len(ok),
            "rps": len(ok) / seconds, "p50": pct(ok, 50), "p99": pct(ok, 99),
            "max": ok[-1] if ok else float("nan"),
            "over_5s": sum(s.latency > ANSWER_LIMIT for s in samples)}  # fmt: skip


def reply_delays(fake: FakeWeCom, samples, wait: float) -> tuple[list[float], int]:
    """Seconds from each request to its reply's arrival at the fake; and how many never came."""
    starts = {s.kind: s.start for s in samples if s.status == 200}
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        arrived = {c.body.get("touser"): c.at for c in fake.calls("message/send") if c.ok}
        if all(u in arrived for u in starts):
            break
        time.sleep(0.25)
    delays = sorted(arrived[u] - t for u, t in starts.items() if u in arrived)
    return delays, len(starts) - len(delays)


def line(name: str, f: dict, delays: list[float] | None = None, missing: int = 0) -> str:
    text = (f"  {name:<34} {f['rps']:6.0f} req/s  answer p50 {f['p50'] * 1e3:6.1f} ms  "
            f"p99 {f['p99'] * 1e3:7.1f} ms  max {f['max'] * 1e3:6.0f} ms  "
            f"over 5 s {f['over_5s']}  errors {f['errors']}")  # fmt: skip
    if delays is not None:
        text += (f"\n  {'':<34} reply at the API: p50 {pct(delays, 50) * 1e3:6.0f} ms  "
                 f"p99 {pct(delays, 99) * 1e3:7.0f} ms  never {missing}")  # fmt: skip
    return text


def measure(port: int, a, name: str, fake: FakeWeCom | None = None, wait: float = 60.0,
            rate: float | None = None):  # fmt: skip
    if rate is None:
        Load(port, callbacks(), concurrency=a.concurrency, duration=1.0).run()  # warm-up
    samples, _ = Load(port, callbacks(), concurrency=a.concurrency, duration=a.duration,
                      rate=rate).run()  # fmt: skip
    result = figures(samples, a.duration)
    delays, missing = reply_delays(fake, samples, wait) if fake else (None, 0)
    say(line(name, result, delays, missing))
    return result, delays


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--duration", type=float, default=6.0, help="seconds per measured run")
    p.add_argument("--rate", type=float, default=20.0, help="callbacks a second, paced run")
    p.add_argument("--lock", type=float, default=6.0, help="seconds the database is locked")
    p.add_argument("--api-delay", type=float, default=3.0, help="seconds the fake API is late")
    a = p.parse_args(argv)
    with scratch_dir("maintbot-wecom-bench-") as workdir:
        say(f"wecom_callback benchmark: {os.cpu_count()} cores, concurrency {a.concurrency}, "
            f"work dir {workdir}")  # fmt: skip
        with floor_server("floor", workdir, "wecom") as floor:
            floor_figures, _ = measure(floor.port, a, "floor: check + decrypt + answer")
        with FakeWeCom() as fake, ScratchDatabase("sqlite", workdir) as db:
            env = maintbot.environment(
                db.url, WECOM_CORP_ID=CORP_ID, WECOM_AGENT_ID=str(AGENT_ID), WECOM_SECRET=SECRET,
                WECOM_TOKEN=wr.TOKEN, WECOM_AES_KEY=wr.AES_KEY, WECOM_API_URL=fake.base_url,
            )  # fmt: skip
            with maintbot.served("maintbot", maintbot.command(), env, workdir).start() as bot:
                port = bot.port
                paced, delays = measure(port, a, f"maintbot, {a.rate:.0f} callbacks/s", fake,
                                        rate=a.rate)  # fmt: skip
                # flat out, the core falls behind: how long its backlog of replies takes to drain
                ours, _ = measure(port, a, "maintbot serve [sqlite], flat out", fake, wait=600)
                holder = HeldLock(db, a.lock)
                holder.start()
                holder.acquired.wait()
                locked, _ = measure(port, a, f"database locked {a.lock:.0f} s")
                holder.join()
                fake.slow(a.api_delay)
                slow, _ = measure(port, a, f"fake API {a.api_delay:.0f} s late")
                fake.slow(0)
    say()
    say(f"maintbot / floor: throughput {ours['rps'] / floor_figures['rps']:.2f}, "
        f"answer p99 {ours['p99'] / floor_figures['p99']:.1f}x")  # fmt: skip
    say("targets (issue 4):")
    for name, ok, value in (
        ("answer p99 < 300 ms, flat out", ours["p99"] < 0.3, f"{ours['p99'] * 1e3:.1f} ms"),
        (f"answer p99 < 300 ms, {a.rate:.0f}/s", paced["p99"] < 0.3,
         f"{paced['p99'] * 1e3:.1f} ms; reply at the API p99 {pct(delays, 99) * 1e3:.0f} ms"),
        ("no answer > 5 s, database locked", locked["over_5s"] == 0 and locked["errors"] == 0,
         f"max {locked['max']:.2f} s"),
        ("no answer > 5 s, API slowed", slow["over_5s"] == 0 and slow["errors"] == 0,
         f"max {slow['max']:.2f} s"),
    ):  # fmt: skip
        say(f"  {'PASS' if ok else 'FAIL'}  {name:<36} {value}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SetupError as err:
        print(f"setup failed: {err}", file=sys.stderr)
        sys.exit(1)
