"""Run benchmarks, keep their figures in bench/results.json, and write bench/RESULTS.md.

python bench/run.py                 # all
python bench/run.py ledger-append   # some; figures of the others are kept
python bench/run.py nation          # issue 18's 18-million-member baseline: only when named
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    choices_bench,
    digest_bench,
    distribution_bench,
    ledger_bench,
    mail_bench,
    members_bench,
    money_bench,
    nation_bench,
    nation_money_bench,
    nation_results,
    permits_bench,
    reports_bench,
    tiles_bench,
)
from bench.common import machine

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "ledger-append": lambda: {e: ledger_bench.append(e) for e in ("sqlite", "postgresql")},
    "ledger-verify-proofs": lambda: {e: ledger_bench.verify_and_proofs(e) for e in ("sqlite", "postgresql")},
    "choices-cohort": lambda: {e: choices_bench.cohort(e) for e in ("sqlite", "postgresql")},
    "permits": lambda: {e: permits_bench.run(e) for e in ("sqlite", "postgresql")},
    "money-balances": lambda: {e: money_bench.run(e) for e in ("sqlite", "postgresql")},
    "money-distribution": lambda: {e: distribution_bench.run(e) for e in ("sqlite", "postgresql")},
    "reports-annual": lambda: {e: reports_bench.run(e) for e in ("sqlite", "postgresql")},
    "members-import": lambda: {e: members_bench.run(e) for e in ("sqlite", "postgresql")},
    "mail-delivery": lambda: {e: mail_bench.run(e) for e in ("sqlite", "postgresql")},
    "mail-digest": lambda: {e: digest_bench.run(e) for e in ("sqlite", "postgresql")},
    "ledger-tiles": lambda: {"postgresql": tiles_bench.run("postgresql")},
    # issue 18's baseline: long runs; BENCH_MEMBERS and BENCH_EVENTS make it smaller
    "nation": lambda: {"postgresql": nation_bench.run(int(os.environ.get("BENCH_MEMBERS", nation_results.NATION)))},
    "nation-money": lambda: {
        "postgresql": nation_money_bench.run(
            int(os.environ.get("BENCH_MEMBERS", nation_results.NATION)),
            int(os.environ.get("BENCH_PERMITS", nation_money_bench.PERMITS)),
        )
    },
    "nation-verify": lambda: {
        "postgresql": nation_bench.verify_sizes([int(n) for n in os.environ.get("BENCH_EVENTS", "1000000").split(",")])
    },
}
ON_REQUEST = {"nation", "nation-money", "nation-verify"}
"""Run only when named: they take 15 to 40 minutes each (nation-money, two years, the longest)
and 12 GiB of disk or more."""


def _fmt(n: float) -> str:
    return f"{n:,.0f}" if isinstance(n, int) or n >= 100 else f"{n:g}"


def render(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`coop bench`); each section says when and where it ran.",
        "Targets come from SPEC.md section 5 and the issues. Beside each figure of ours stands",
        "its peer: the floor or limit the same machine reaches with the simplest possible code.",
        "",
    ]
    if "ledger-append" in results:
        r = results["ledger-append"]
        lines += [
            "## Ledger of record: append throughput",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "One event per committed transaction through the real commit path (lock, tree",
            "update, subtree rows, durable COMMIT). Peer: a bare one-row INSERT + COMMIT into a",
            "plain table on the same engine with the same durability settings.",
            "",
            "| engine | 1 writer (events/s) | 8 writers (events/s) | peer: bare INSERT+COMMIT (/s) |",
            "|---|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {_fmt(f['single_writer_events_per_s'])} | {_fmt(f['eight_writers_events_per_s'])} "
                f"| {_fmt(f['bare_insert_commit_per_s'])} |"
            )
        lines.append("")
    if "ledger-verify-proofs" in results:
        r = results["ledger-verify-proofs"]
        lines += [
            "## Ledger of record: verifying and proving at one million events",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "`coop ledger verify`'s work over a cooperative whose log holds a million events, each with",
            "the rows it made, written as the services write them: members admitted with their choices",
            "and an invitation, 70% logged in, 30% changed their choices, 2% left, and a proposal that",
            "a third of them voted on. Every event read once, its canonical bytes and leaf hash rebuilt,",
            "the tree rebuilt, stored subtrees and every signed head compared; every row of every",
            "table reconciled with the events that made it (the tables with a row per member read by",
            "forked processes while the log streams by, so both cores work). Measured in a process",
            "of its own, as `coop ledger verify` runs; best of three runs.",
            "Target: over 200,000 events/s.",
            "Peer (the limit): `hashlib.sha256` over the same bytes already in memory, with no",
            "database, no tree and no rows; beside it, the same verification of the log alone, without",
            "reconciling the tables. The machine's load average when verify started is shown: the",
            "machine is shared, and figures measured under load are lower.",
            "",
            "| engine | events | rows | load | verify (s) | verify (events/s) | the log alone (events/s) "
            "| peer: raw hashlib (events/s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {_fmt(f['events'])} | {_fmt(f.get('rows', 0))} | {f.get('load_average', '-')} "
                f"| {f['verify_seconds']} | {_fmt(f['verify_events_per_s'])} "
                f"| {_fmt(f.get('log_alone_events_per_s', 0))} | {_fmt(f['raw_hashlib_events_per_s'])} |"
            )
        lines += [
            "",
            "Proof latency at that size (500 random proofs against the full tree; two indexed",
            "lookups each: stored subtrees, then the leaf hashes of small ones). Peer: one primary-key lookup.",
            "",
            "| engine | inclusion mean / p50 / p99 (ms) | consistency mean / p50 / p99 (ms) "
            "| peer: PK lookup mean / p99 (ms) |",
            "|---|---|---|---|",
        ]
        for engine, f in r["figures"].items():
            i, c, k = f["inclusion_proof"], f["consistency_proof"], f["primary_key_lookup"]
            lines.append(
                f"| {engine} | {i['mean_ms']} / {i['p50_ms']} / {i['p99_ms']} "
                f"| {c['mean_ms']} / {c['p50_ms']} / {c['p99_ms']} | {k['mean_ms']} / {k['p99_ms']} |"
            )
        lines.append("")
    if "choices-cohort" in results:
        r = results["choices-cohort"]
        lines += [
            "## Members' choices: cohort counts for one application over a million members",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "1,000,000 members: 8% opted out, 20% with their own choices (some excluding a category),",
            "5% behind proxies, the rest following the mandate. Counts by reason for a commercial",
            "research application (EHR and claims data) as the bulk engine computes them; the same",
            "with three purposes. Median of 7 runs. Target: under 0.5 s. Peers: a bare `count(*)`",
            "over the same table (SQLite answers it from the b-tree without reading rows) and a",
            "`count(*)` that must read every row (`WHERE valid_to IS NULL`).",
            "",
            "| engine | members | 1 purpose (s) | 3 purposes (s) | peer: bare count(*) (s) "
            "| peer: filtered count (s) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {_fmt(f['members'])} | {f['one_purpose_seconds']} | {f['three_purposes_seconds']} "
                f"| {f['bare_count_seconds']} | {f.get('filtered_count_seconds', '-')} |"
            )
        lines += ["", "Counts for the one-purpose application (the same on both engines):", ""]
        f = next(iter(r["figures"].values()))
        lines.append(
            f"eligible {_fmt(f['eligible'])}; excluded "
            + ", ".join(f"{reason} {_fmt(n)}" for reason, n in f["excluded_by_reason"].items())
        )
        lines.append("")
    if "permits" in results:
        r = results["permits"]
        lines += [
            "## Permits: a consultation and a manifest over a million members",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "The same 1,000,000 members. An HDAB consultation for academic research on EHR data",
            "(assessment, cohort counts, suppression, ledger event, stored answer; median of 5;",
            "target under 0.5 s), then the manifest for a permit with the same scope: eligible",
            "members as of approval, HMAC pseudonyms, RFC 9162 root, stored (target under 10 s), and",
            "streamed back as CSV lines from a server-side cursor in batches of 50,000 (peak Python",
            "memory while streaming, measured with tracemalloc).",
            "",
            "| engine | consultation (s) | manifest size | create (s) | stream (s) | stream peak (MiB) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {f['consultation_seconds']} | {_fmt(f['manifest_size'])} "
                f"| {f['manifest_create_seconds']} | {f['manifest_stream_seconds']} | {f['manifest_stream_peak_mib']} |"
            )
        lines.append("")
    if "money-balances" in results:
        r = results["money-balances"]
        lines += [
            "## Money: balances over 200,000 entries",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "Every account's balance computed by the product (one SQL aggregation), beside",
            "`ledger -f FILE balance` (Ledger 3.3, Debian's `ledger`) and `bean-check` on the same",
            "entries exported by the product (best of 3). Target: at least 5x faster than ledger.",
            "",
            "| engine | entries | ours (s) | peer: ledger balance (s) | peer: bean-check (s) | ours vs ledger |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            ratio = f"{f['ledger_cli_seconds'] / f['ours_seconds']:.0f}x" if f.get("ledger_cli_seconds") else "-"
            lines.append(
                f"| {engine} | {_fmt(f['entries'])} | {f['ours_seconds']} | {f.get('ledger_cli_seconds', '-')} "
                f"| {f['bean_check_seconds']} | {ratio} |"
            )
        lines.append("")
    if "money-distribution" in results:
        r = results["money-distribution"]
        lines += [
            "## Money: a yearly distribution over 1,000,000 members and 200 permits",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "`distributions.draft` (gather income, expenses, policy, manifests and donors; plan;",
            "store every member's share), a board user's request to commit it (recompute and compare",
            "the digest), and a second board user's approval, which commits (recompute and compare the",
            "digest; open an account per member; one closing entry with a posting per member; the",
            "payouts entry), each in its own transaction; the total counts all three. Each permit's",
            "manifest holds 2-60% of the members; 5% donate. Target: draft and commit together under 30 s. Peer (the",
            "floor): writing one posting-shaped row per member into a plain table with the",
            "driver's fastest path; a commit writes about three rows per member.",
            "",
            "| engine | members | member-permit pairs | plan (s) | draft (s) | ask (s) | approve: commit (s) "
            "| total (s) | peer: bare rows (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {_fmt(f['members'])} | {_fmt(f['member_permit_pairs'])} | {f['plan_seconds']} "
                f"| {f['draft_seconds']} | {f.get('ask_seconds', '-')} | {f['commit_seconds']} "
                f"| **{f['total_seconds']}** "
                f"| {f['bare_insert_seconds']} |"
            )
        lines.append("")
    if "reports-annual" in results:
        r = results["reports-annual"]
        lines += [
            "## Reports: the annual benefit report over 1,000,000 members and 200 permits",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "Every figure of the year gathered (`coop.reporting.figures.annual`: revenue, the",
            "distribution and the histogram of a million dividends, grants, the permit register",
            "with compliance flags, results, a million members' choices per purpose and user",
            "type, decisions, the integrity statement) and the PDF drawn (ReportLab), median of",
            "3. Target: under 10 s. Peer (the floor): reading the two million-row columns the",
            "report needs (current preference masks, dividends) with bare SQL, nothing else.",
            "",
            "| engine | members | permits | figures (s) | PDF (s) | total (s) | PDF size (bytes) "
            "| peer: bare reads (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {_fmt(f['members'])} | {f['permits']} | {f['figures_seconds']} | {f['render_seconds']} "
                f"| **{f['total_seconds']}** | {_fmt(f['pdf_bytes'])} | {f['bare_reads_seconds']} |"
            )
        lines.append("")
    if "members-import" in results:
        r = results["members-import"]
        lines += [
            "## Members: admitting 100,000 members from the membership administration's file",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "`coop members import` (`coop.members.admission.run`) over a CSV of 100,000 rows: every",
            "row checked (name, email address, language, reference), then admitted in batches of 500",
            "per transaction, each member with a `member.admitted` event, first choices and their",
            "`choices.started` event, and an invitation with its `member.invited` event and its",
            "message queued. Then the same file again (everyone a member already: nobody admitted).",
            "Target: under 60 s. Peer (the floor): four member-shaped rows per member inserted with",
            "the driver's batched path in one transaction, nothing checked or computed. The machine's",
            "load average when the engine's run began is shown (the machine is shared).",
            "",
            "Until 2026-11-27 the import on PostgreSQL slowed down from about 20,000 members on (125 s,",
            "and once over 11 minutes): psycopg prepares a statement run often, and PostgreSQL then",
            "settled on a generic plan for the look-up of emails and references already taken, costed",
            "while the member table was nearly empty, and kept it for the pooled connection's life: a",
            "full scan of the member table per batch. Every connection now plans each run",
            "(`plan_cache_mode = force_custom_plan`, `coop/db.py`).",
            "",
            "| engine | load | members | import (s) | members/s | same file again (s) | peer: bare rows (s) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {f.get('load_average', '-')} | {_fmt(f['members'])} | **{f['import_seconds']}** "
                f"| {_fmt(f['members_per_s'])} "
                f"| {f['rerun_seconds']} | {f['bare_rows_seconds']} |"
            )
        lines.append("")
    if "mail-delivery" in results:
        r = results["mail-delivery"]
        lines += [
            "## Mail: delivering 5,000 invitations to an SMTP server",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "5,000 invitations queued as an import queues them (`coop.mail.outbox.enqueue_many`), then",
            "delivered by the real worker (`coop.mail.worker.deliver_due`, `COOP_MAIL_URL=smtp://...`)",
            "to an SMTP server on a loopback port (aiosmtpd in a process of its own, accepting and",
            "discarding): each message claimed (leased), composed in its language (plain text and",
            "HTML), sent, and recorded as sent in the transaction that claims the next, over one",
            "connection. Peer: `smtplib.SMTP.send_message` in a loop over one connection, sending the",
            "same messages already composed to the same server. Composing alone (the stdlib's",
            "`email` package building headers and parts) is shown beside it. On PostgreSQL, two",
            "workers in processes of their own deliver another 5,000 at once (`FOR UPDATE SKIP",
            "LOCKED`): what the server received, and how many distinct Message-IDs. The machine's",
            "load average when the engine's run began is shown: the machine is shared.",
            "",
            "Before the worker recorded each message with the claim of the next, on one connection,",
            "it spent two commits and about eight round trips to the database per message: 59",
            "messages/s on SQLite and 42 on PostgreSQL (2 workers: 67) on this machine at a load of",
            "6 to 7 (2026-11-27 08:17 UTC), beside a peer of 678 and 470.",
            "",
            "| engine | load | messages | worker (s) | worker (messages/s) | peer: bare smtplib (messages/s) "
            "| composing alone (messages/s) | 2 workers (messages/s) | 2 workers: received / distinct |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            two = f"{_fmt(f['two_workers_per_s'])}" if "two_workers_per_s" in f else "-"
            got = (
                f"{_fmt(f['two_workers_received'])} / {_fmt(f['two_workers_distinct'])}"
                if "two_workers_received" in f
                else "-"
            )
            lines.append(
                f"| {engine} | {f.get('load_average', '-')} | {_fmt(f['messages'])} | {f['worker_seconds']} "
                f"| **{_fmt(f['worker_per_s'])}** "
                f"| {_fmt(f['bare_smtp_per_s'])} | {_fmt(f['compose_per_s'])} | {two} | {got} |"
            )
        lines.append("")
    if "mail-digest" in results:
        r = results["mail-digest"]
        lines += [
            "## Mail: queueing the monthly data-use digest for a million members",
            "",
            f"Ran {r['when']} on {r['machine']}.",
            "",
            "The mail worker's monthly digest pass (`coop.mail.schedule.run` with the data-use",
            "passes) over 1,000,000 members seeded straight into the tables (as for the cohort",
            "counts), after two permits formed their groups and one registered a result: the",
            "news read from the ledger of record, each member's permits gathered, and one",
            "message per member in the group written to the outbox by one INSERT ... SELECT (the",
            "permits' details stored once). Target: under 30 s. Peer (the floor): one bare",
            "INSERT ... SELECT of every member's id, email and language into a plain table. The",
            "machine's load average when the pass began is shown (the machine is shared).",
            "",
            "| engine | members | digests queued | load | queue (s) | digests/s | Python peak (MiB) "
            "| peer: bare INSERT ... SELECT (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for engine, f in r["figures"].items():
            lines.append(
                f"| {engine} | {_fmt(f['members'])} | {_fmt(f['digests_queued'])} | {f['load']} "
                f"| **{f['queue_seconds']}** | {_fmt(f['digests_per_s'])} | {f['peak_python_mib']} "
                f"| {f['bare_insert_select_seconds']} |"
            )
        lines.append("")
    if "ledger-tiles" in results:
        lines += tiles_bench.render(results["ledger-tiles"])
    if "nation" in results:
        lines += nation_results.render(results)
    return "\n".join(lines)


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmarks: {unknown}; choose from {list(BENCHMARKS)}")
        return 2
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    where = machine()
    for name in names or [n for n in BENCHMARKS if n not in ON_REQUEST]:
        figures = BENCHMARKS[name]()
        if name == "nation" and os.environ.get("BENCH_ONLY"):
            print("a partial run (BENCH_ONLY): its figures are printed above, not kept")
            continue
        results[name] = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": where, "figures": figures}
        RESULTS_JSON.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        RESULTS_MD.write_text(render(results))
    print(f"wrote {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
