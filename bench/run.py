"""`make bench`: Hortense's speed, memory, training time and NLU quality, against the stock `rasa init` bot
measured in the same run on the same machine (machines here are shared and noisy: ratios, not absolutes).

One run, in this order:
1. full training of Hortense's model, forced and timed (`rasa train --force`, in a temporary directory);
2. NLU cross-validation and per-intent F1 (scripts/nlu_report.py; `--quick` skips cross-validation);
3. the stock bot (`rasa init --no-prompt`, cached in bench/tmp/stock-bot; its training is timed too);
4. Hortense as `make run` starts it (one Rasa server + one action server, SQLite): RSS at rest, then 1, 20
   and 50 concurrent conversations over the secure endpoint (portal JWTs of 80 demo customers: the 8 demo
   customers and clones of them, so that every conversation is its own), RSS after load;
5. the stock bot over its REST channel, same levels, same RSS readings;
6. saturated throughput of two Rasa servers (+ two action servers) on the same cores, against one, with
   the production configuration (PostgreSQL tracker store, Redis lock store) when HORTENSE_TEST_POSTGRES_URL
   and HORTENSE_TEST_REDIS_URL are set; otherwise two servers on one SQLite tracker file, each conversation
   pinned to one server (said so in the results).
Results: bench/results/<date>.md and .json, and bench/results/summary.md (the table for the README).

Bounded: fixed turns per level, 60 s per request, 300 s per level; loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets as secrets_mod
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / "tmp"

sys.path.insert(0, str(ROOT / "bench"))
import load  # noqa: E402  (bench/load.py)

from hortense.ops import cluster, launcher  # noqa: E402
from hortense.settings import SECRET_NAMES  # noqa: E402

RASA = str(launcher.RASA)

LEVELS = [(1, 40), (20, 10), (50, 6)]  # (concurrent conversations, turns each)
CLONES = 19  # 8 demo customers x 19 = 152 distinct conversations
TARGETS = {"p50_ratio": 1.5, "saturated_ratio": 0.8, "two_instances_ratio": 1.5, "memory_ratio": 1.3, "training_s": 180}
BENCH_ENV = {
    "HORTENSE_MESSAGE_RATE_PER_MINUTE": "1000000",  # the per-conversation rate limit is not measured
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONPATH": str(ROOT),
}


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", flush=True)


# --- measurements ---------------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, from /proc (VmRSS), in MB."""
    total_kb = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return round(total_kb / 1024, 1)


# --- customers: the demo ones and clones, so that each concurrent conversation is its own -------------------


def clone_specs(count: int):
    """Demo customers (k = 0) and clones k = 1..count-1 with their own numbers, contracts and PDLs."""
    from hortense.db import seed

    specs = []
    for k in range(count):
        for spec in seed.demo_customers():
            if k == 0:
                specs.append(spec)
                continue
            sites = [
                replace(
                    s,
                    contract_number=f"{s.contract_number[:-6]}{k:02d}{s.contract_number[-4:]}",
                    pdl=f"{s.pdl[:9]}{k:02d}{s.pdl[-3:]}",
                )
                for s in spec.sites
            ]
            specs.append(replace(spec, number=f"C{k:02d}{spec.number[1:]}", sites=sites))
    return specs


def seed_bench_database(url: str, clones: int = CLONES) -> list[str]:
    """Migrate and seed `url` with the clones (in a child process); returns the customer numbers."""
    subprocess.run(
        [sys.executable, str(Path(__file__)), "_seed", url, str(clones)],
        cwd=ROOT,
        check=True,
        env={**os.environ, **BENCH_ENV},
    )
    return [s.number for s in clone_specs(clones)]


def _seed_main(url: str, clones: int) -> int:
    from hortense.appointments.advisors import seed_advisors
    from hortense.db import seed
    from hortense.db.migrate import upgrade
    from hortense.db.session import session_scope

    upgrade(url)
    with session_scope(url) as session:
        added = seed.seed_demo(session, customers=clone_specs(clones))
        seed_advisors(session)
    print(f"seeded {added} customers")
    return 0


# --- training -----------------------------------------------------------------------------------------------


def train_forced(out_dir: Path) -> tuple[float, Path]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from train import model_path, train_command

    target = model_path()
    started = time.monotonic()
    cmd = train_command(target, out_dir, force=True, rasa=RASA)
    result = subprocess.run(
        cmd, cwd=ROOT, env={**os.environ, **BENCH_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seconds = time.monotonic() - started
    trained = out_dir / target.name
    if result.returncode != 0 or not trained.exists():
        raise RuntimeError(f"training failed:\n{result.stderr[-3000:]}")
    if not target.exists():  # same inputs, same name: also serves make run / make test
        target.parent.mkdir(exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copy2(trained, partial)
        os.replace(partial, target)
    return seconds, trained


def current_model() -> Path:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py")], cwd=ROOT, env={**os.environ, **BENCH_ENV}
    )
    if result.returncode != 0:
        raise RuntimeError("training failed")
    sys.path.insert(0, str(ROOT / "scripts"))
    from train import model_path

    return model_path()


def nlu_report(out: Path, quick: bool, folds: int = 3) -> dict:
    cmd = [sys.executable, str(ROOT / "scripts" / "nlu_report.py"), "--json", str(out), "--folds", str(folds)]
    if quick:
        cmd.append("--skip-cv")
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **BENCH_ENV}, capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": (result.stderr or result.stdout)[-2000:]}
    figures = json.loads(out.read_text())
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["folds"] = folds
    return figures


def stock_bot(fresh: bool) -> tuple[Path, float | None]:
    """The `rasa init` bot, created (and trained, timed) once and cached; returns (dir, training seconds)."""
    path = CACHE / "stock-bot"
    stamp = path / ".bench-train-seconds"
    if fresh and path.exists():
        shutil.rmtree(path)
    if not (path / "models").exists() or not any((path / "models").glob("*.tar.gz")):
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)  # rasa init wants an existing (empty) directory
        started = time.monotonic()
        result = subprocess.run(
            [RASA, "init", "--no-prompt", "--init-dir", str(path)],
            cwd=CACHE,
            env={**os.environ, **BENCH_ENV},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rasa init failed:\n{result.stderr[-3000:]}")
        stamp.write_text(f"{time.monotonic() - started:.1f}")
    seconds = float(stamp.read_text()) if stamp.exists() else None
    return path, seconds


# --- servers --------------------------------------------------------------------------------------------------


def start_hortense(workdir: Path, model: Path, data_url: str, secrets: dict) -> list[launcher.Proc]:
    """One action server + one Rasa server, configured as `make run` (SQLite tracker store)."""
    action_port, rasa_port = launcher.free_port(), launcher.free_port()
    env = {
        **cluster.base_env(secrets, BENCH_ENV),
        "HORTENSE_DATABASE_URL": data_url,
        "HORTENSE_TRACKER_DB": str(workdir / "tracker.db"),
        "HORTENSE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
    }
    actions = launcher.start_actions(env, action_port, workdir)
    rasa = launcher.start_rasa(env, rasa_port, workdir, model=model)
    try:
        launcher.wait_ready(actions, 120)
        launcher.wait_ready(rasa, 420)
    except BaseException:
        launcher.stop_all([rasa, actions])
        raise
    return [rasa, actions]


def start_stock(path: Path, workdir: Path, port: int | None = None) -> launcher.Proc:
    """The stock bot's Rasa server, from its own directory (its models, credentials and endpoints)."""
    port = port or launcher.free_port()
    proc = launcher.start_rasa({**os.environ, **BENCH_ENV}, port, workdir, model="models", name="stock-rasa", cwd=path)
    proc.ready_url = f"{proc.url}/"  # the stock bot has no website channel
    try:
        launcher.wait_ready(proc, 300)
    except BaseException:
        proc.stop()
        raise
    return proc


# --- load -----------------------------------------------------------------------------------------------------


def hortense_convs(urls: list[str], customers: list[str], secrets: dict) -> list:
    from hortense.security.identity import mint_portal_token
    from hortense.settings import get_settings

    settings = replace(get_settings(), portal_jwt_secret=secrets["HORTENSE_PORTAL_JWT_SECRET"])
    return [
        load.hortense_conversation(
            urls[i % len(urls)], mint_portal_token(c, minutes=60, settings=settings), load.HORTENSE_MIX
        )
        for i, c in enumerate(customers)
    ]


def stock_convs(urls: list[str], senders: list[str]) -> list:
    return [load.rest_conversation(urls[i % len(urls)], s, load.STOCK_MIX) for i, s in enumerate(senders)]


REPETITIONS = 2


def run_interleaved(bots: dict) -> dict:
    """Each level, REPETITIONS times, each bot in turn (order reversed every repetition), so that a noisy
    moment of the shared machine hits every bot alike. Every level and repetition uses fresh conversations.

    bots: name -> (make_conversations(ids), pool of ids). Returns name -> list of merged level results.
    """
    for name, (make, pool) in bots.items():
        load.run_level(f"{name} warm-up", make(pool[-4:]), 3)
    cursor = {name: 0 for name in bots}
    runs: dict = {name: {c: [] for c, _ in LEVELS} for name in bots}
    names = list(bots)
    for rep in range(REPETITIONS):
        for concurrency, turns in LEVELS:
            for name in names if rep % 2 == 0 else names[::-1]:
                make, pool = bots[name]
                ids = pool[cursor[name] : cursor[name] + concurrency]
                cursor[name] += concurrency
                result = load.run_level(f"{name} x{concurrency}", make(ids), turns)
                log(
                    f"  {result.label} (run {rep + 1}): p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, "
                    f"{result.throughput} turns/s, {result.errors} errors"
                )
                runs[name][concurrency].append(result)
    return {name: [load.merge(f"{name} x{c}", runs[name][c]).as_dict() for c, _ in LEVELS] for name in bots}


def saturated(results: list[dict]) -> float:
    return max(r["throughput"] for r in results if r["concurrency"] > 1)


# --- two instances --------------------------------------------------------------------------------------------


def instances_run(workdir: Path, model: Path, secrets: dict, count: int, customers: list[str]) -> dict:
    """`count` Rasa servers + `count` action servers; saturated throughput at 50 conversations."""
    postgres = os.environ.get("HORTENSE_TEST_POSTGRES_URL")
    redis_url = os.environ.get("HORTENSE_TEST_REDIS_URL")
    tag = f"bench{secrets_mod.token_hex(3)}"
    created: list[str] = []
    procs: list = []
    try:
        if postgres and redis_url:
            mode = "production configuration: PostgreSQL tracker store and customer database, Redis lock store"
            data_db, tracker_db = f"{tag}_data", f"{tag}_tracker"
            data_url = cluster.create_database(postgres, data_db)
            created.append(data_db)
            tracker_url = cluster.create_database(postgres, tracker_db)
            created.append(tracker_db)
            seed_bench_database(data_url)
            cluster.prepare_tracker_database(tracker_url)
            running = cluster.start_cluster(
                workdir,
                data_url=data_url,
                tracker_url=tracker_url,
                redis_url=redis_url,
                secrets=secrets,
                rasa_count=count,
                action_count=count,
                use_nginx=False,
                model=model,
                extra_env=BENCH_ENV,
            )
            procs = running.processes
            urls = [p.url for p in running.rasa]
        else:
            mode = "SQLite configuration (no PostgreSQL/Redis given): each server its own tracker file, each conversation pinned to one server"
            data_url = f"sqlite:///{workdir / 'data.db'}"
            seed_bench_database(data_url)
            urls = []
            for i in range(count):
                sub = workdir / f"instance-{i + 1}"
                started = start_hortense(sub, model, data_url, {**secrets})
                procs.extend(started)
                urls.append(started[0].url)
        make = lambda ids: hortense_convs(urls, ids, secrets)  # noqa: E731
        load.run_level(f"{count} instance(s) warm-up", make(customers[-4:]), 3)
        result = load.run_level(f"hortense {count} instance(s) x50", make(customers[:50]), LEVELS[-1][1])
        log(f"  {result.label}: {result.throughput} turns/s, p50 {result.p50_ms} ms, {result.errors} errors")
        rss = {p.name: rss_mb(p.pid) for p in procs}
        return {"instances": count, "mode": mode, "result": result.as_dict(), "rss_mb": rss}
    finally:
        launcher.stop_all(procs)
        for db in created:
            with contextlib.suppress(Exception):  # a database left behind is not worth failing the run
                cluster.drop_database(postgres, db)


# --- report ---------------------------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def summarise(data: dict) -> list[tuple[str, str, str, str]]:
    h, s = data["hortense"]["levels"], data["stock"]["levels"]
    p50 = ratio(h[0]["p50_ms"], s[0]["p50_ms"])
    sat = ratio(saturated(h), saturated(s))
    two = data.get("two_instances") or {}
    two_thr = (two.get("two") or {}).get("result", {}).get("throughput")
    one_thr = (two.get("one") or {}).get("result", {}).get("throughput")
    two_ratio = ratio(two_thr, saturated(s))
    mem = ratio(data["hortense"]["rss_mb"]["after"]["rasa"], data["stock"]["rss_mb"]["after"]["stock-rasa"])
    train = data.get("training", {}).get("hortense_s")
    l20 = next(r for r in h if r["concurrency"] == 20)
    nlu = data.get("nlu", {})
    cv = nlu.get("cross_validation") or {}
    held = nlu.get("evaluation_set") or {}
    rows = [
        (
            "one user, p50 latency",
            f"{h[0]['p50_ms']} ms vs stock {s[0]['p50_ms']} ms",
            f"{p50}×",
            f"≤ 1.5× — {verdict(p50 is not None and p50 <= TARGETS['p50_ratio'])}",
        ),
        (
            "saturated throughput, 1 Rasa + 1 action server",
            f"{saturated(h)} vs stock {saturated(s)} turns/s",
            f"{sat}×",
            f"≥ 0.8× — {verdict(sat is not None and sat >= TARGETS['saturated_ratio'])}",
        ),
        (
            "saturated throughput, 2 Rasa instances (same 2 cores)",
            f"{two_thr} turns/s (1 instance, same config: {one_thr})" if two_thr else "not run",
            f"{two_ratio}× stock" if two_ratio else "—",
            f"≥ 1.5× — {verdict(None if two_ratio is None else two_ratio >= TARGETS['two_instances_ratio'])}",
        ),
        (
            "20 concurrent conversations",
            f"{l20['errors']} errors, p95 {l20['p95_ms']} ms, p99 {l20['p99_ms']} ms",
            "",
            f"0 errors — {verdict(l20['errors'] == 0)}",
        ),
        (
            "Rasa server memory (RSS after load)",
            f"{data['hortense']['rss_mb']['after']['rasa']} MB vs stock "
            f"{data['stock']['rss_mb']['after']['stock-rasa']} MB",
            f"{mem}×",
            f"≤ 1.3× — {verdict(mem is not None and mem <= TARGETS['memory_ratio'])}",
        ),
        (
            "full training (2 cores)",
            f"{train} s" if train else "not run",
            "",
            f"≤ 180 s — {verdict(None if not train else train <= TARGETS['training_s'])}",
        ),
    ]
    if cv:
        worst = min(cv["per_intent_f1"].items(), key=lambda kv: kv[1])
        rows.append(
            (
                f"NLU {nlu.get('folds')}-fold cross-validation",
                f"accuracy {cv['accuracy']:.3f}, macro F1 {cv['macro_f1']:.3f}",
                f"lowest F1 {worst[0]} {worst[1]:.2f}",
                "",
            )
        )
    if held:
        worst = min(held["per_intent_f1"].items(), key=lambda kv: kv[1])
        rows.append(
            (
                "NLU held-out evaluation set",
                f"accuracy {held['accuracy']:.3f}",
                f"lowest F1 {worst[0]} {worst[1]:.2f}",
                f"≥ 95 %, none < 85 % — {verdict(held['accuracy'] >= 0.95 and worst[1] >= 0.85)}",
            )
        )
    return rows


def markdown(data: dict) -> tuple[str, str]:
    rows = summarise(data)
    table = ["| what | measured | ratio | target |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    table_text = "\n".join(table)
    lines = [
        f"# Benchmark {data['date']}",
        "",
        f"Machine: {data['machine']}. Load before the run: "
        f"{data['loadavg_before']}. Command: `{data['command']}` ({data['total_s']} s).",
        "",
        "## Summary",
        "",
        table_text,
        "",
    ]
    for name in ("hortense", "stock"):
        if name not in data:
            continue
        lines += [
            f"## {name}: latency and throughput per level",
            "",
            "| conversations | turns | errors | empty answers | p50 ms | p95 ms | p99 ms | mean ms | turns/s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in data[name]["levels"]:
            lines.append(
                f"| {r['concurrency']} | {r['turns']} | {r['errors']} | {r['empty']} | {r['p50_ms']} | "
                f"{r['p95_ms']} | {r['p99_ms']} | {r['mean_ms']} | {r['throughput']} |"
            )
        rss = data[name].get("rss_mb")
        if rss:
            lines += [
                "",
                "RSS (MB): "
                + ", ".join(f"{p} {rss['rest'][p]} at rest → {rss['after'][p]} after load" for p in rss["rest"]),
                "",
            ]
        errors = [e for r in data[name]["levels"] for e in r["error_samples"]]
        if errors:
            lines += ["Error samples: " + "; ".join(errors[:5]), ""]
    two = data.get("two_instances")
    if two:
        lines += [
            "## Several Rasa instances on the same cores",
            "",
            f"Mode: {two['two']['mode']}.",
            "",
            "| Rasa instances | turns | errors | p50 ms | p95 ms | turns/s | RSS MB |",
            "|---|---|---|---|---|---|---|",
        ]
        for key in ("one", "two"):
            r = two[key]["result"]
            lines.append(
                f"| {two[key]['instances']} | {r['turns']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} |"
                f" {r['throughput']} | {', '.join(f'{k} {v}' for k, v in two[key]['rss_mb'].items())} |"
            )
        lines.append("")
    nlu = data.get("nlu") or {}
    for key, title in (
        ("cross_validation", f"NLU: {nlu.get('folds', '')}-fold cross-validation"),
        ("evaluation_set", "NLU: held-out set"),
    ):
        if nlu.get(key):
            f1 = nlu[key]["per_intent_f1"]
            lines += [
                f"## {title}",
                "",
                f"accuracy {nlu[key]['accuracy']:.3f}, macro F1 {nlu[key]['macro_f1']:.3f}",
                "",
                "| intent | F1 |",
                "|---|---|",
            ]
            lines += [f"| {k} | {v:.3f} |" for k, v in sorted(f1.items(), key=lambda kv: kv[1])]
            lines.append("")
    if nlu.get("error"):
        lines += ["## NLU report failed", "", "```", nlu["error"][-1500:], "```", ""]
    lines += [
        "## Method",
        "",
        (
            "Closed loop over loopback: each conversation sends its next message when the previous answer arrives. "
            "All bots are up at once and the levels are run bot after bot, repeated "
            f"{REPETITIONS} times in alternating order (figures pool the repetitions), so that the shared "
            "machine's noise hits every bot alike. "
            "Hortense is driven over its secure endpoint (`POST /webhooks/web/message`, portal JWT), the stock bot "
            "over its REST channel; each level uses its own conversations. Percentiles are nearest-rank. RSS is "
            "VmRSS from /proc (process and children). Per-conversation rate limiting is switched off for the run. "
            f"Levels: {', '.join(f'{c} conversation(s) × {t} turns' for c, t in LEVELS)}."
        ),
        "",
    ]
    return "\n".join(lines), table_text


# --- main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_seed":
        return _seed_main(argv[1], int(argv[2]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the forced training and the cross-validation")
    parser.add_argument("--no-instances", action="store_true", help="skip the two-instance measurement")
    parser.add_argument("--fresh-stock", action="store_true", help="re-create the stock bot (and time its training)")
    parser.add_argument(
        "--folds",
        type=int,
        default=3,
        help="cross-validation folds (default 3: keeps the run under 15 minutes on 2 cores; `make nlu-report` does 5)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny levels, no training, NLU or instances (checks the harness; results go to bench/tmp)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--scale",
        type=int,
        help="the scale benchmark instead (bench/scale.py): this many customers against the demo seed",
    )
    args = parser.parse_args(argv)
    if args.scale:
        import scale  # bench/scale.py

        return scale.main(args.scale, args.quick, args.out)
    global LEVELS, REPETITIONS
    if args.smoke:
        LEVELS = [(1, 3), (20, 1), (50, 1)]
        REPETITIONS = 1
        args.quick, args.no_instances, args.out = True, True, CACHE / "smoke-results"

    started = time.monotonic()
    data: dict = {
        "date": dt.date.today().isoformat(),
        "command": "make bench" + (" QUICK=1" if args.quick else ""),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "loadavg_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    secrets = {n: secrets_mod.token_urlsafe(32) for n in SECRET_NAMES}  # the run's own
    work = Path(tempfile.mkdtemp(prefix="hortense-bench-"))
    try:
        data["training"] = {}
        if args.quick:
            log("model (trained only if out of date)")
            model = current_model()
        else:
            log("full training of Hortense's model (forced, timed)")
            seconds, model = train_forced(work / "models")
            data["training"]["hortense_s"] = round(seconds, 1)
            log(f"  trained in {seconds:.0f} s")
        if not args.smoke:
            log(
                "NLU report"
                + (" (held-out set only)" if args.quick else f" ({args.folds}-fold cross-validation + held-out set)")
            )
            data["nlu"] = nlu_report(work / "nlu.json", args.quick, args.folds)
        log("stock bot (rasa init)")
        stock_path, stock_train = stock_bot(args.fresh_stock)
        data["training"]["stock_init_s"] = stock_train

        log("servers: Hortense (one Rasa + one action server, make run configuration), the stock bot")
        data_url = f"sqlite:///{work / 'hortense.db'}"
        customers = seed_bench_database(data_url)
        servers: dict = {}
        try:
            servers["hortense"] = start_hortense(work / "hortense", model, data_url, secrets)
            servers["stock"] = [start_stock(stock_path, work / "stock")]
            rest = {name: {p.name: rss_mb(p.pid) for p in procs} for name, procs in servers.items()}
            senders = [f"bench-{i}" for i in range(len(customers))]
            bots = {
                name: (
                    (lambda ids, url=procs[0].url: stock_convs([url], ids))
                    if name == "stock"
                    else (lambda ids, url=procs[0].url: hortense_convs([url], ids, secrets)),
                    senders if name == "stock" else customers,
                )
                for name, procs in servers.items()
            }
            log(f"levels {LEVELS}, {REPETITIONS} repetitions, bots interleaved")
            levels = run_interleaved(bots)
            after = {name: {p.name: rss_mb(p.pid) for p in procs} for name, procs in servers.items()}
        finally:
            launcher.stop_all([p for procs in servers.values() for p in procs])
        for name in servers:
            data[name] = {"levels": levels[name], "rss_mb": {"rest": rest[name], "after": after[name]}}

        if not args.no_instances:
            log("one, then two Rasa instances on the same cores (saturated, 50 conversations)")
            one = instances_run(work / "one", model, secrets, 1, customers)
            two = instances_run(work / "two", model, secrets, 2, customers)
            data["two_instances"] = {"one": one, "two": two}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    data["total_s"] = round(time.monotonic() - started)
    report, table = markdown(data)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{data['date']}.md").write_text(report + "\n")
    (args.out / f"{data['date']}.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "summary.md").write_text(
        f"Measured by `make bench` on {data['date']} (see bench/results/{data['date']}.md).\n\n{table}\n"
    )
    print("\n" + table)
    print(f"\nresults: {args.out / (data['date'] + '.md')} (+ .json), table: {args.out / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
