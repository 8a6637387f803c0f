"""Figures of a run (throughput, latency percentiles, how the answers went) and the table that
reports them."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.kit.load import Sample

ACK_LIMIT = 3.0  # Slack's acknowledgement deadline: answers later than this are counted


def say(text: str = "") -> None:
    print(text, flush=True)


def pct(sorted_values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of values sorted ascending."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@dataclass
class Figures:
    """One run's figures. A 200 answer is ``deferred`` or ``refused`` as its sample's
    ``answer`` says, else ``inline``; the percentiles are over every sample."""

    phase: str
    server: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    over_3s: int
    inline: int
    deferred: int
    refused: int
    kinds: dict = field(default_factory=dict)  # per request kind: count, p50, p99, deferred
    notes: dict = field(default_factory=dict)

    @classmethod
    def of(cls, phase: str, server: str, samples: list[Sample], seconds: float) -> Figures:
        ok = [s for s in samples if s.status == 200]
        lat = sorted(s.latency for s in samples)
        kinds = {}
        for kind in sorted({s.kind for s in samples}):
            mine = sorted(s.latency for s in samples if s.kind == kind)
            kinds[kind] = {
                "requests": len(mine),
                "p50_ms": round(pct(mine, 50) * 1000, 1),
                "p99_ms": round(pct(mine, 99) * 1000, 1),
                "max_ms": round(mine[-1] * 1000, 1),
                "deferred": sum(s.answer == "deferred" for s in samples if s.kind == kind),
            }
        answers = [s.answer for s in ok]
        return cls(
            phase=phase,
            server=server,
            requests=len(samples),
            errors=len(samples) - len(ok),
            seconds=round(seconds, 2),
            rps=round(len(ok) / seconds, 1) if seconds > 0 else 0.0,
            p50_ms=round(pct(lat, 50) * 1000, 1),
            p90_ms=round(pct(lat, 90) * 1000, 1),
            p99_ms=round(pct(lat, 99) * 1000, 1),
            max_ms=round((lat[-1] if lat else float("nan")) * 1000, 1),
            over_3s=sum(s.latency > ACK_LIMIT for s in samples),
            inline=answers.count(""),
            deferred=answers.count("deferred"),
            refused=answers.count("refused"),
            kinds=kinds,
        )

    def line(self) -> str:
        """The run in one line, printed as it ends."""
        return (
            f"  {self.phase:<20} {self.server:<46} {self.rps:6.0f} req/s  p50 {self.p50_ms:6.1f} ms"
            f"  p99 {self.p99_ms:7.1f} ms  max {self.max_ms:6.0f} ms  errors {self.errors}"
            f"  deferred {self.deferred}  refused {self.refused}"
        )


COLUMNS = [
    ("phase", 20, "{}"),
    ("server", 46, "{}"),
    ("requests", 8, "{}"),
    ("errors", 6, "{}"),
    ("rps", 8, "{:.0f}"),
    ("p50_ms", 8, "{:.1f}"),
    ("p90_ms", 8, "{:.1f}"),
    ("p99_ms", 8, "{:.1f}"),
    ("max_ms", 8, "{:.0f}"),
    ("over_3s", 7, "{}"),
    ("inline", 7, "{}"),
    ("deferred", 8, "{}"),
    ("refused", 7, "{}"),
]


def table(rows: list[Figures]) -> str:
    """One row a run; the first two columns left-aligned, the figures right-aligned."""
    head = " ".join(
        f"{name:<{w}}" if i < 2 else f"{name:>{w}}" for i, (name, w, _) in enumerate(COLUMNS)
    )
    out = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for i, (name, w, fmt) in enumerate(COLUMNS):
            text = fmt.format(getattr(row, name))
            cells.append(f"{text:<{w}}" if i < 2 else f"{text:>{w}}")
        out.append(" ".join(cells))
    return "\n".join(out)


def comparisons(results: dict, client: str) -> list[str]:
    """The lines that compare slack_ack's runs: the floor with the client's ceiling, maintbot's
    commands with each other and with the floor (the ratios are also kept in ``results``)."""
    r, lines = results, []
    floor = r.get("floor")
    if "ceiling_raw" in r:
        httpx = r.get("ceiling_httpx", {}).get("rps", float("nan"))
        lines.append(
            f"client ceiling (null server): raw asyncio {r['ceiling_raw']['rps']:.0f} req/s, "
            f"httpx {httpx:.0f} req/s"
        )
        if floor:
            ceiling = r[f"ceiling_{client}"]["rps"]
            share = floor["rps"] / ceiling if ceiling else float("nan")
            limit = "limits the floor figures" if share > 0.7 else "is not the limit"
            lines.append(
                f"  the floor runs at {share:.0%} of the {client} client's ceiling: the client "
                + limit
            )
        if "floor_httpx" in r:
            lines.append(
                f"  the floor measured with httpx instead: {r['floor_httpx']['rps']:.0f} "
                f"req/s, p99 {r['floor_httpx']['p99_ms']:.1f} ms"
            )
    if floor:
        lines.append(f"floor configuration: {r['floor_config']}")
    for kind, m in r.get("maintbot", {}).items():
        if not (normal := m.get("normal")):
            continue
        per_kind = (
            f"{k} p50 {v['p50_ms']} ms / p99 {v['p99_ms']} ms" for k, v in normal["kinds"].items()
        )
        lines.append(f"maintbot [{kind}] per command: " + ", ".join(per_kind))
        if floor:
            rps_ratio = normal["rps"] / floor["rps"]
            p99_ratio = normal["p99_ms"] / floor["p99_ms"]
            lines.append(
                f"maintbot [{kind}] / floor: throughput {rps_ratio:.2f} "
                f"({normal['rps']:.0f} / {floor['rps']:.0f} req/s), p99 {p99_ratio:.1f}x "
                f"({normal['p99_ms']:.1f} / {floor['p99_ms']:.1f} ms)"
            )
            m["ratio_rps"], m["ratio_p99"] = round(rps_ratio, 3), round(p99_ratio, 2)
    return lines
