"""`make bench SCALE=100000`: the same load against a supplier-sized database, beside the demo one, in one run.

Two Hortense stacks on one throwaway PostgreSQL server of our own (`hortense.ops.pg_local`, with
`pg_stat_statements` and `auto_explain` preloaded), each one Rasa server + one action server + the web app:

- **demo**: the bench's customers (the 8 demo customers and their clones, as `make bench` seeds them), the demo
  advisors and a year of their calls, an empty conversation store;
- **scale**: the same customers, then generated ones up to SCALE (`hortense db seed --customers`: contracts,
  24 months of history, 200 advisors, a year of calls), and a conversation store pre-filled with ≥ 1,000,000
  events (`hortense db seed-tracker`), earlier sessions of the bench's customers included.

Then, as `make bench` does: the levels (1, 20, 50 conversations) bot after bot, twice, in alternating order; the
advisors' console pages and the iCalendar feed, demo and scale alternately; the slowest statements of the scale
run (pg_stat_statements), the plans of those over `auto_explain`'s threshold, and the tables read by sequential
scans during the load. Results: bench/results/<date>-scale.md and .json.

QUICK=1 (or --quick): 200,000 events, shorter levels (a few minutes with SCALE=5000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets as secrets_mod
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import load  # noqa: E402
import run  # noqa: E402  (bench/run.py: the levels, the bench customers, the report helpers)

from hortense.ops import cluster, launcher  # noqa: E402
from hortense.ops.pg_local import LocalPostgres  # noqa: E402
from hortense.settings import SECRET_NAMES  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TRACKER_EVENTS = 1_000_000
QUICK_EVENTS = 200_000
# 150 measured requests per page and database (+1 warm-up round): a p95 over 59 moved with one slow answer (the
# feed's 1.59x of 2026-11-30 with an equal p50); ≈ 1 min for the 10 pages on both stacks.
CONSOLE_ROUNDS = 151
CALLS_PER_DAY = 2  # per advisor and working day, on both databases: the same workload per advisor
AUTO_EXPLAIN_MS = 20
ENDPOINTS = """action_endpoint:
  url: ${HORTENSE_ACTION_SERVER_URL}
  token: ${HORTENSE_ACTION_SERVER_TOKEN}
  token_name: hortense_token
tracker_store:
  type: hortense.rasa.tracker_store.RedactingSQLTrackerStore
  dialect: postgresql
  url: ${HORTENSE_TRACKER_DB_HOST}
  port: ${HORTENSE_TRACKER_DB_PORT}
  db: ${HORTENSE_TRACKER_DB_NAME}
  username: ${HORTENSE_TRACKER_DB_USER}
  password: ${HORTENSE_TRACKER_DB_PASSWORD}
"""
SUPERVISOR = "isabelle.mercier@hortense.example.fr"
ADVISOR = "claire.fontaine@hortense.example.fr"
PASSWORD = "hortense-demo"
# Searches: by name the same on both databases ("Dubois": Camille Dubois and her clones, and at scale every generated
# Dubois); by customer number, PDL and phone, the customer of each database with the most calls.
NAME_SEARCH = "Dubois"

log = run.log


def bench_customers() -> list[str]:
    return [s.number for s in run.clone_specs(run.CLONES)]


def _child(args: list[str], env: dict) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, env=env)


def prepare(name: str, admin_url: str, scale: int | None, events: int, env: dict) -> tuple[str, str, dict]:
    """Data and tracker databases of one stack, seeded; returns their URLs and the seeding times."""
    data_url = cluster.create_database(admin_url, f"{name}_data")
    tracker_url = cluster.create_database(admin_url, f"{name}_tracker")
    timings: dict = {}
    started = time.monotonic()
    run.seed_bench_database(data_url)  # migrations + the bench customers (demo customers and clones)
    timings["bench_customers_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    generated = ["-m", "hortense", "db", "seed", "--url", data_url, "--quiet", "--calls-per-day", str(CALLS_PER_DAY)]
    if scale:
        _child([*generated, "--customers", str(scale)], env)
    else:  # a year of calls of the bench customers with the demo advisors
        _child([*generated, "--customers", "1", "--advisors", "3"], env)
    timings["scale_seed_s"] = round(time.monotonic() - started, 1)
    cluster.prepare_tracker_database(tracker_url)
    if events:
        started = time.monotonic()
        extra = ",".join(f"web-{c}" for c in bench_customers())
        _child(
            [str(Path(__file__)), "_tracker", tracker_url, data_url, str(events), extra],
            env,
        )
        timings["tracker_fill_s"] = round(time.monotonic() - started, 1)
    return data_url, tracker_url, timings


def _tracker_main(tracker_url: str, data_url: str, events: int, extra: str) -> int:
    from sqlalchemy import create_engine

    from hortense.db.seed_tracker import seed_tracker

    tracker, data = create_engine(tracker_url, future=True), create_engine(data_url, future=True)
    report = seed_tracker(tracker, events, data=data, extra_senders=extra.split(","), progress=False)
    print(f"tracker store: {report.describe()}", flush=True)
    return 0


def start_stack(name: str, work: Path, model: Path, data_url: str, tracker_url: str, secrets: dict) -> list:
    endpoints = work / "endpoints.yml"
    work.mkdir(parents=True, exist_ok=True)
    endpoints.write_text(ENDPOINTS)
    action_port, rasa_port, web_port = launcher.free_port(), launcher.free_port(), launcher.free_port()
    env = cluster.base_env(
        secrets,
        {
            **run.BENCH_ENV,
            "HORTENSE_DATABASE_URL": data_url,
            "HORTENSE_TRACKER_URL": tracker_url,
            **cluster.tracker_env(tracker_url),
            "HORTENSE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "HORTENSE_DEMO_LOGIN": "0",
            "HORTENSE_WEB_BASE_URL": f"http://127.0.0.1:{web_port}",
        },
    )
    procs = [
        launcher.start_actions(env, action_port, work, name=f"{name}-actions"),
        launcher.start_web(env, web_port, work, name=f"{name}-web"),
        launcher.start_rasa(env, rasa_port, work, model=model, endpoints=endpoints, name=f"{name}-rasa"),
    ]
    try:
        for proc in procs:
            launcher.wait_ready(proc, 420)
    except BaseException:
        launcher.stop_all(procs)
        raise
    return procs


# --- console ----------------------------------------------------------------------------------------------------


def console_login(base: str, email: str):
    import requests

    s = requests.Session()
    page = s.get(f"{base}/console/login", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    r = s.post(
        f"{base}/console/login",
        data={"email": email, "password": PASSWORD, "csrf": token.group(1) if token else ""},
        timeout=30,
        allow_redirects=False,
    )
    if r.status_code not in (302, 303):
        raise RuntimeError(f"console login of {email} failed: HTTP {r.status_code}")
    return s


def console_targets(data_url: str, tracker_url: str, base: str) -> dict[str, str]:
    """The URLs measured on one stack: lists, searches, a call and its transcript, the iCalendar feed."""
    from sqlalchemy import create_engine, func, select, text

    from hortense import clock
    from hortense.appointments.advisors import issue_feed_token
    from hortense.db.calendar_models import Advisor, Appointment
    from hortense.db.models import Contract, Customer
    from hortense.db.session import session_scope

    with session_scope(data_url) as db:
        claire = db.execute(select(Advisor.id).where(Advisor.email == ADVISOR)).scalar_one()
        busiest = db.execute(
            select(Appointment.customer_id)
            .group_by(Appointment.customer_id)
            .order_by(func.count().desc(), Appointment.customer_id)
            .limit(1)
        ).scalar_one()
        number, phone = db.execute(select(Customer.customer_number, Customer.phone).where(Customer.id == busiest)).one()
        pdl = db.execute(select(Contract.pdl).where(Contract.customer_id == busiest).limit(1)).scalar_one()
        token = issue_feed_token(db, claire, clock.now())
        senders = db.execute(
            select(Appointment.id, Appointment.sender_id)
            .where(Appointment.advisor_id == claire, Appointment.start_utc < clock.now())
            .order_by(Appointment.start_utc.desc())
            .limit(200)
        ).all()
    tracker = create_engine(tracker_url, future=True)
    try:
        with tracker.connect() as conn:
            talked = {
                s
                for (s,) in conn.execute(
                    text("SELECT DISTINCT sender_id FROM events WHERE sender_id = ANY(:s)"),
                    {"s": [s for _, s in senders]},
                )
            }
    finally:
        tracker.dispose()
    call = next((i for i, s in senders if s in talked), senders[0][0] if senders else None)
    targets = {
        "upcoming (advisor)": f"{base}/console/calls",
        "upcoming (supervisor, one advisor)": f"{base}/console/calls?advisor={claire}",
        "upcoming (supervisor, everybody)": f"{base}/console/calls",
        "search: name": f"{base}/console/search?q={NAME_SEARCH}",
        "search: customer number": f"{base}/console/search?q={number}",
        "search: PDL": f"{base}/console/search?q={pdl}",
        "search: phone": f"{base}/console/search?q=0{phone[3:4]}+{'+'.join(phone[i : i + 2] for i in range(4, 12, 2))}",
        "call page": f"{base}/console/calls/{call}",
        "transcript": f"{base}/console/calls/{call}/transcript",
        "iCalendar feed (advisor)": f"{base}/console/ical/{token}.ics",
    }
    return targets


def measure_console(stacks: dict[str, dict], rounds: int) -> dict:
    """Each page `rounds` times per stack, the stacks alternately; p50/p95 per page and stack."""
    sessions = {
        name: {"advisor": console_login(s["web"], ADVISOR), "supervisor": console_login(s["web"], SUPERVISOR)}
        for name, s in stacks.items()
    }
    timings: dict = {name: {page: [] for page in s["targets"]} for name, s in stacks.items()}
    sizes: dict = {name: {} for name in stacks}
    errors: dict = {name: 0 for name in stacks}
    names = list(stacks)
    pages = list(next(iter(stacks.values()))["targets"])
    for k in range(rounds):
        for page in pages:  # each page on one stack then the other at once: a noisy moment hits both
            for name in names if k % 2 == 0 else names[::-1]:
                url = stacks[name]["targets"][page]
                who = "advisor" if page.endswith("(advisor)") else "supervisor"
                started = time.perf_counter()
                r = sessions[name][who].get(url, timeout=60, allow_redirects=False)
                elapsed = (time.perf_counter() - started) * 1000
                if r.status_code != 200:
                    errors[name] += 1
                    continue
                if k:  # the first round warms the caches
                    timings[name][page].append(elapsed)
                sizes[name][page] = len(r.content)
    result: dict = {"rounds": rounds - 1, "errors": errors, "pages": {}}
    for page in next(iter(stacks.values()))["targets"]:
        row = {}
        for name in names:
            values = timings[name][page]
            row[name] = {
                "p50_ms": round(load.percentile(values, 50), 1),
                "p95_ms": round(load.percentile(values, 95), 1),
                "kb": round(sizes[name].get(page, 0) / 1024, 1),
            }
        demo, scale = row.get("demo", {}).get("p95_ms"), row.get("scale", {}).get("p95_ms")
        row["p95_ratio"] = round(scale / demo, 2) if demo and scale else None
        demo, scale = row.get("demo", {}).get("p50_ms"), row.get("scale", {}).get("p50_ms")
        row["p50_ratio"] = round(scale / demo, 2) if demo and scale else None
        result["pages"][page] = row
    return result


# --- PostgreSQL's view of the load --------------------------------------------------------------------------------


def _admin(url: str):
    from sqlalchemy import create_engine

    return create_engine(url, future=True, isolation_level="AUTOCOMMIT")


def reset_statistics(admin_url: str, databases: list[str]) -> dict:
    from sqlalchemy import text

    engine = _admin(admin_url)
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        conn.execute(text("SELECT pg_stat_statements_reset()"))
    engine.dispose()
    return table_scans(admin_url, databases)


def table_scans(admin_url: str, databases: list[str]) -> dict:
    from sqlalchemy import text

    out: dict = {}
    for db in databases:
        engine = _admin(cluster.with_database(admin_url, db))
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), n_live_tup FROM pg_stat_user_tables"
                )
            ).all()
        engine.dispose()
        out[db] = {r[0]: {"seq_scan": r[1], "seq_tup_read": r[2], "idx_scan": r[3], "rows": r[4]} for r in rows}
    return out


def scan_deltas(before: dict, after: dict) -> list[dict]:
    """Tables read sequentially between two snapshots (a big one read that way is a missing index)."""
    rows = []
    for db, tables in after.items():
        for name, now in tables.items():
            then = before.get(db, {}).get(name, {"seq_scan": 0, "seq_tup_read": 0, "idx_scan": 0})
            seq = now["seq_scan"] - then["seq_scan"]
            if seq > 0:
                rows.append(
                    {
                        "database": db,
                        "table": name,
                        "rows": now["rows"],
                        "seq_scans": seq,
                        "rows_read_sequentially": now["seq_tup_read"] - then["seq_tup_read"],
                        "index_scans": now["idx_scan"] - then["idx_scan"],
                    }
                )
    return sorted(rows, key=lambda r: -r["rows_read_sequentially"])


def slowest_statements(admin_url: str, databases: list[str], limit: int = 15) -> list[dict]:
    """The statements of `databases` by mean time, but the bench's own reads of the statistics."""
    from sqlalchemy import text

    engine = _admin(admin_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.datname, s.calls, s.total_exec_time, s.mean_exec_time, s.max_exec_time, s.rows, s.query "
                "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                "WHERE d.datname = ANY(:dbs) AND s.calls > 0 AND s.query NOT LIKE '%pg_stat_user_tables%' "
                "ORDER BY s.mean_exec_time DESC LIMIT :n"
            ),
            {"dbs": databases, "n": limit},
        ).all()
    engine.dispose()
    return [
        {
            "database": r[0],
            "calls": r[1],
            "total_ms": round(r[2], 1),
            "mean_ms": round(r[3], 3),
            "max_ms": round(r[4], 1),
            "rows": r[5],
            "query": " ".join(r[6].split())[:600],
        }
        for r in rows
    ]


def auto_explained(log_file: Path, since: int, databases: list[str]) -> list[dict]:
    """Plans auto_explain logged (statements over AUTO_EXPLAIN_MS) in `databases` after byte offset `since`."""
    try:
        with log_file.open(errors="replace") as f:
            f.seek(since)
            textlog = f.read()
    except OSError:
        return []
    plans = []
    for block in re.split(r"\n(?=\S.*LOG:  duration: )", textlog):
        m = re.search(r"db=(\S*) LOG:  duration: ([\d.]+) ms  plan:\n(.*)", block, re.S)
        if m and m.group(1) in databases:
            plans.append({"database": m.group(1), "ms": float(m.group(2)), "plan": m.group(3).strip()[:3000]})
    plans.sort(key=lambda p: -p["ms"])
    seen, unique = set(), []
    for plan in plans:
        query = re.search(r"Query Text: (.*)", plan["plan"])
        key = " ".join((query.group(1) if query else plan["plan"])[:200].split())
        if key not in seen:
            seen.add(key)
            unique.append(plan)
    return unique[:10]


def counts(data_url: str, tracker_url: str) -> dict:
    from sqlalchemy import create_engine, text

    out = {}
    for url, tables in (
        (
            data_url,
            (
                "customers",
                "contracts",
                "monthly_consumption",
                "invoices",
                "instalments",
                "battery_movements",
                "surplus_injections",
                "kitty_updates",
                "advisors",
                "appointments",
                "notifications",
                "call_outcomes",
            ),
        ),
        (tracker_url, ("events",)),
    ):
        engine = create_engine(url, future=True)
        with engine.connect() as conn:
            for t in tables:
                out[t] = conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
        engine.dispose()
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as conn:
        out["conversations"] = conn.execute(text("SELECT count(DISTINCT sender_id) FROM events")).scalar_one()
    engine.dispose()
    return out


# --- report -------------------------------------------------------------------------------------------------------


def verdicts(data: dict) -> list[tuple[str, str, str, str]]:
    d, s = data["levels"]["demo"], data["levels"]["scale"]
    p50 = run.ratio(s[0]["p50_ms"], d[0]["p50_ms"])
    p95 = run.ratio(s[0]["p95_ms"], d[0]["p95_ms"])
    sat = run.ratio(run.saturated(s), run.saturated(d))
    rows = [
        (
            "one user, p50 turn latency",
            f"{s[0]['p50_ms']} ms vs demo {d[0]['p50_ms']} ms",
            f"{p50}×",
            f"≤ 1.10× — {run.verdict(p50 is not None and p50 <= 1.10)}",
        ),
        ("one user, p95 turn latency", f"{s[0]['p95_ms']} ms vs demo {d[0]['p95_ms']} ms", f"{p95}×", ""),
        (
            "saturated throughput",
            f"{run.saturated(s)} vs demo {run.saturated(d)} turns/s",
            f"{sat}×",
            f"≥ 0.90× — {run.verdict(sat is not None and sat >= 0.90)}",
        ),
    ]
    worst = max(
        (r for r in data["console"]["pages"].items() if r[1]["p95_ratio"] is not None),
        key=lambda kv: kv[1]["p95_ratio"],
        default=None,
    )
    if worst:
        ok = all(r["p95_ratio"] is not None and r["p95_ratio"] <= 1.5 for r in data["console"]["pages"].values())
        over = [
            f"{page} ({r['scale']['kb']} KB shown vs {r['demo']['kb']} KB)"
            for page, r in data["console"]["pages"].items()
            if r["p95_ratio"] is not None and r["p95_ratio"] > 1.5
        ]
        rows.append(("console pages over 1.5×", "; ".join(over) or "none", "", ""))
        rows.append(
            (
                "console and iCalendar feed, p95 (worst page)",
                f"{worst[0]}: {worst[1]['scale']['p95_ms']} ms vs demo {worst[1]['demo']['p95_ms']} ms",
                f"{worst[1]['p95_ratio']}×",
                f"every page ≤ 1.5× — {run.verdict(ok)}",
            )
        )
    return rows


def markdown(data: dict) -> str:
    rows = verdicts(data)
    lines = [
        f"# Scale benchmark {data['date']}: {data['scale']:,} customers against the demo seed",
        "",
        f"Machine: {data['machine']}. Load before the run: {data['loadavg_before']}. Command: `{data['command']}` "
        f"({data['total_s']} s). Both stacks on one PostgreSQL {data.get('postgres_version', '')} server of the run's "
        "own (hortense.ops.pg_local), one Rasa server + one action server + the web app each.",
        "",
        "## Summary",
        "",
        "| what | measured | ratio | target |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        "## Data",
        "",
        "| table | demo | scale |",
        "|---|---|---|",
        *[f"| {t} | {data['counts']['demo'][t]:,} | {data['counts']['scale'][t]:,} |" for t in data["counts"]["scale"]],
        "",
        "Seeding (s): " + ", ".join(f"{k} {v}" for k, v in data["seeding"]["scale"].items()) + ".",
        "",
        "## Chat turns per level (same customers, same messages)",
        "",
        "| database | conversations | turns | errors | p50 ms | p95 ms | p99 ms | turns/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("demo", "scale"):
        for r in data["levels"][name]:
            lines.append(
                f"| {name} | {r['concurrency']} | {r['turns']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['throughput']} |"
            )
    console = data["console"]
    lines += [
        "",
        f"## Advisors' console and iCalendar feed ({console['rounds']} requests per page and database)",
        "",
        "| page | demo p50 ms | demo p95 ms | demo KB | scale p50 ms | scale p95 ms | scale KB | p50 ratio | p95 ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for page, r in console["pages"].items():
        lines.append(
            f"| {page} | {r['demo']['p50_ms']} | {r['demo']['p95_ms']} | {r['demo']['kb']} | {r['scale']['p50_ms']} | "
            f"{r['scale']['p95_ms']} | {r['scale']['kb']} | {r['p50_ratio']}× | {r['p95_ratio']}× |"
        )
    lines += [
        "",
        f"Errors (non-200): {console['errors']}.",
        "",
        "## Slowest statements of the scale run (pg_stat_statements, by mean time, during the chat load and the "
        "console)",
        "",
        "| database | calls | mean ms | max ms | total ms | statement |",
        "|---|---|---|---|---|---|",
    ]
    for st in data["statements"]:
        query = st["query"].replace("|", "\\|")
        lines.append(
            f"| {st['database']} | {st['calls']} | {st['mean_ms']} | {st['max_ms']} | {st['total_ms']} | `{query}` |"
        )
    lines += [
        "",
        "## Tables read by sequential scans during the scale run (pg_stat_user_tables)",
        "",
        "| database | table | rows | sequential scans | rows read sequentially | index scans |",
        "|---|---|---|---|---|---|",
        *[
            f"| {r['database']} | {r['table']} | {r['rows']:,} | {r['seq_scans']} | {r['rows_read_sequentially']:,} | "
            f"{r['index_scans']} |"
            for r in data["seq_scans"]
        ],
        "",
        f"## Plans of statements slower than {AUTO_EXPLAIN_MS} ms (auto_explain), scale run",
        "",
    ]
    if data["plans"]:
        for p in data["plans"]:
            lines += [f"{p['database']}, {p['ms']} ms:", "", "```", p["plan"], "```", ""]
    else:
        lines += ["None.", ""]
    lines += [
        "## Method",
        "",
        "Both databases hold the bench's customers (the 8 demo customers and their clones), who have the "
        "conversations; the scale one adds the generated customers (`python -m hortense db seed --customers N`), "
        "200 advisors and a year of calls, and a tracker store pre-filled by `python -m hortense db seed-tracker` "
        "(realistic sessions over the 180-day retention period, earlier sessions of the bench's customers "
        "included). The demo one has the demo advisors and a year of their calls, and an empty tracker store. "
        "Levels as `make bench` (closed loop, fresh conversations per level and repetition, demo and scale in "
        f"alternating order, {run.REPETITIONS} repetitions pooled). Console: the same pages and searches on both, "
        "alternately (each page on one, then at once on the other), over HTTP with a logged-in advisor (her lists, her feed) and supervisor (everybody's lists, "
        "searches, call and transcript pages); the first round is a warm-up. Searches by customer number, PDL and "
        "phone look for the customer of each database with the most calls; by name, for Dubois on both. Statistics are reset before the chat "
        "load. PostgreSQL runs with fsync off (a throwaway server), the same for both.",
        "",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------------------------


def main(scale: int, quick: bool, out: Path = RESULTS, events: int | None = None) -> int:
    if quick:
        run.LEVELS = [(1, 20), (20, 6), (50, 4)]
    events = events or (QUICK_EVENTS if quick else TRACKER_EVENTS)
    started = time.monotonic()
    data: dict = {
        "date": dt.date.today().isoformat(),
        "command": f"make bench SCALE={scale}" + (" QUICK=1" if quick else ""),
        "scale": scale,
        "tracker_events": events,
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "loadavg_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    secrets = {n: secrets_mod.token_urlsafe(32) for n in SECRET_NAMES}
    work = Path(tempfile.mkdtemp(prefix="hortense-scale-"))
    server = LocalPostgres(
        Path(tempfile.mkdtemp(prefix="hortense-scale-pg-")),  # its own folder: PostgreSQL's user must reach it
        preload=("pg_stat_statements", "auto_explain"),
        settings={"auto_explain.log_min_duration": f"'{AUTO_EXPLAIN_MS}ms'", "auto_explain.log_format": "text"},
    )
    env = {**os.environ, **run.BENCH_ENV}
    procs: list = []
    try:
        log("model (trained only if out of date)")
        model = run.current_model()
        log("PostgreSQL (throwaway, pg_stat_statements + auto_explain)")
        admin = server.start()
        data["seeding"] = {}
        urls = {}
        for name, size, n_events in (("demo", None, 0), ("scale", scale, events)):
            log(f"database '{name}'" + (f": {size:,} customers, {n_events:,} tracker events" if size else ""))
            data_url, tracker_url, timings = prepare(name, admin, size, n_events, env)
            urls[name] = (data_url, tracker_url)
            data["seeding"][name] = timings
            log(f"  {timings}")
        data["counts"] = {name: counts(*urls[name]) for name in urls}
        log("servers: one Rasa + one action server + the web app per database")
        stacks: dict = {}
        for name, (data_url, tracker_url) in urls.items():
            started_stack = start_stack(name, work / name, model, data_url, tracker_url, secrets)
            procs.extend(started_stack)
            stacks[name] = {"rasa": started_stack[2].url, "web": started_stack[1].url}
        customers = bench_customers()
        databases = [f"{n}_{k}" for n in ("scale",) for k in ("data", "tracker")]
        for name, (data_url, tracker_url) in urls.items():  # the bench's own queries, before the statistics
            stacks[name]["targets"] = console_targets(data_url, tracker_url, stacks[name]["web"])
        before = reset_statistics(admin, databases)
        log_offset = (server.root / "server.log").stat().st_size
        bots = {
            name: (lambda ids, url=s["rasa"]: run.hortense_convs([url], ids, secrets), customers)
            for name, s in stacks.items()
        }
        log(f"chat levels {run.LEVELS}, {run.REPETITIONS} repetitions, demo and scale interleaved")
        data["levels"] = run.run_interleaved(bots)
        log("advisors' console and iCalendar feed")
        data["console"] = measure_console(stacks, 6 if quick else CONSOLE_ROUNDS)
        for page, r in data["console"]["pages"].items():
            log(
                f"  {page}: p50 {r['demo']['p50_ms']} / {r['scale']['p50_ms']} ms ({r['p50_ratio']}×), "
                f"p95 {r['demo']['p95_ms']} / {r['scale']['p95_ms']} ms ({r['p95_ratio']}×)"
            )
        data["statements"] = slowest_statements(admin, databases)
        data["seq_scans"] = scan_deltas(before, table_scans(admin, databases))
        data["plans"] = auto_explained(server.root / "server.log", log_offset, databases)
        with _admin(admin).connect() as conn:
            from sqlalchemy import text

            data["postgres_version"] = conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        launcher.stop_all(procs)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    data["total_s"] = round(time.monotonic() - started)
    report = markdown(data)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{data['date']}-scale"
    (out / f"{stem}.md").write_text(report + "\n")
    (out / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    print("\n" + "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in verdicts(data)))
    print(f"\nresults: {out / (stem + '.md')} (+ .json)")
    return 0


def cli(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_tracker":
        return _tracker_main(argv[1], argv[2], int(argv[3]), argv[4] if len(argv) > 4 else "")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--events", type=int, help=f"tracker events (default {TRACKER_EVENTS:,}; quick {QUICK_EVENTS:,})"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    return main(args.scale, args.quick, args.out, args.events)


if __name__ == "__main__":
    sys.exit(cli())
