"""Closed-loop load on loopback: N conversations at once, each sending its messages one after the other.

Bounded: a fixed number of turns per conversation, a timeout per request and per level. Loopback only
(the URLs are checked). Used by bench/run.py; can also be run alone against a running server:

    python bench/load.py --url http://127.0.0.1:5005 --kind hortense --concurrency 20 --turns 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# A realistic mix for Hortense: account questions of every kind, small talk, across all offers (a question
# that does not fit the customer's offer gets its explanation: that is part of the mix too).
HORTENSE_MIX = [
    "bonjour",
    "quel est mon numéro de PDL ?",
    "combien j'ai consommé le mois dernier ?",
    "ma dernière facture",
    "combien il y a dans ma cagnotte ?",
    "quelles sont mes heures creuses ?",
    "c'est quoi mon offre ?",
    "mon prochain prélèvement c'est quand ?",
    "merci",
    "ma batterie virtuelle est à combien ?",
    "mon numéro de contrat svp",
    "ma conso des 3 derniers mois",
]
# The stock `rasa init` bot's own intents.
STOCK_MIX = [
    "hello",
    "I am feeling great",
    "are you a bot?",
    "I am sad",
    "yes",
    "hi there",
    "no",
    "good morning",
    "very good",
    "bye",
]


@dataclass
class Conversation:
    """One conversation: where its messages go and how they are sent."""

    url: str  # full message URL
    headers: dict
    body: Callable[[str], dict]
    texts: Sequence[str]


@dataclass
class LevelResult:
    label: str
    concurrency: int
    turns: int
    ok: int
    errors: int
    empty: int
    wall_s: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    error_samples: list = field(default_factory=list)
    latencies: list = field(default_factory=list, repr=False)

    @classmethod
    def measured(
        cls,
        label: str,
        *,
        concurrency: int,
        errors: int,
        empty: int,
        wall: float,
        latencies: list[float],
        error_samples: list,
    ) -> LevelResult:
        """A level's counts and latencies (ms), with the throughput and latency statistics computed from them: a
        turn is either answered (its latency is kept) or an error; the first five error samples are kept."""
        ok = len(latencies)
        return cls(
            label=label,
            concurrency=concurrency,
            turns=ok + errors,
            ok=ok,
            errors=errors,
            empty=empty,
            wall_s=round(wall, 3),
            throughput=round(ok / wall, 2) if wall else 0.0,
            p50_ms=round(percentile(latencies, 50), 1),
            p95_ms=round(percentile(latencies, 95), 1),
            p99_ms=round(percentile(latencies, 99), 1),
            mean_ms=round(statistics.fmean(latencies), 1) if latencies else float("nan"),
            max_ms=round(max(latencies), 1) if latencies else float("nan"),
            error_samples=error_samples[:5],
            latencies=latencies,
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("latencies")
        return data


def merge(label: str, results: Sequence[LevelResult]) -> LevelResult:
    """Several repetitions of one level as one result: pooled latencies, total turns over total time."""
    latencies = [x for r in results for x in r.latencies]
    wall = sum(r.wall_s for r in results)
    return LevelResult.measured(
        label,
        concurrency=results[0].concurrency,
        errors=sum(r.errors for r in results),
        empty=sum(r.empty for r in results),
        wall=wall,
        latencies=latencies,
        error_samples=[e for r in results for e in r.error_samples],
    )


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): the value below which pct % of the samples lie."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"load tests target loopback only, not {host!r}")


def hortense_conversation(base_url: str, token: str, texts: Sequence[str]) -> Conversation:
    return Conversation(
        f"{base_url}/webhooks/web/message", {"Authorization": f"Bearer {token}"}, lambda text: {"message": text}, texts
    )


def rest_conversation(base_url: str, sender: str, texts: Sequence[str]) -> Conversation:
    return Conversation(
        f"{base_url}/webhooks/rest/webhook", {}, lambda text: {"sender": sender, "message": text}, texts
    )


async def _run(
    label: str, conversations: list[Conversation], turns: int, request_timeout: float, level_timeout: float
) -> LevelResult:
    import aiohttp

    for c in conversations:
        assert_loopback(c.url)
    latencies: list[float] = []
    errors: list[str] = []
    empty = 0

    async def one(session, conv: Conversation, offset: int) -> None:
        nonlocal empty
        for k in range(turns):
            text = conv.texts[(offset + k) % len(conv.texts)]
            started = time.perf_counter()
            try:
                async with session.post(conv.url, json=conv.body(text), headers=conv.headers) as response:
                    payload = await response.read()
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status != 200:
                        errors.append(f"HTTP {response.status}: {payload[:120]!r}")
                        continue
                    messages = json.loads(payload or b"[]")
                    if not messages:
                        empty += 1
                    latencies.append(elapsed)
            except Exception as exc:  # noqa: BLE001 (a timeout or a reset is an error of the level)
                errors.append(f"{type(exc).__name__}: {exc}"[:160])

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        tasks = [asyncio.ensure_future(one(session, c, i)) for i, c in enumerate(conversations)]
        done, pending = await asyncio.wait(tasks, timeout=level_timeout)
        for task in pending:
            task.cancel()
        if pending:
            errors.append(f"level timeout after {level_timeout:.0f} s: {len(pending)} conversation(s) cut short")
        wall = time.perf_counter() - started
    return LevelResult.measured(
        label,
        concurrency=len(conversations),
        errors=len(errors),
        empty=empty,
        wall=wall,
        latencies=latencies,
        error_samples=errors,
    )


def run_level(
    label: str, conversations: list[Conversation], turns: int, request_timeout: float = 60, level_timeout: float = 300
) -> LevelResult:
    return asyncio.run(_run(label, conversations, turns, request_timeout, level_timeout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="server base URL (loopback)")
    parser.add_argument("--kind", choices=["hortense", "rest"], default="hortense")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--turns", type=int, default=10, help="messages per conversation")
    parser.add_argument(
        "--customers",
        default="C1001,C1002,C1003,C1004,C1005,C1006,C1007,C1008",
        help="hortense: customers (conversation i uses customer i mod n; one conversation each)",
    )
    args = parser.parse_args(argv)
    if args.kind == "hortense":
        from hortense.security.identity import mint_portal_token

        customers = args.customers.split(",")
        convs = [
            hortense_conversation(args.url, mint_portal_token(customers[i % len(customers)], minutes=60), HORTENSE_MIX)
            for i in range(args.concurrency)
        ]
    else:
        convs = [rest_conversation(args.url, f"bench-{i}", STOCK_MIX) for i in range(args.concurrency)]
    result = run_level(f"{args.kind} x{args.concurrency}", convs, args.turns)
    print(json.dumps(result.as_dict(), indent=2))
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
