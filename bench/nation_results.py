"""The RESULTS.md section of the nation-scale baseline (issue 18): each target beside its
floor, and the per-million costs the scaling notes extrapolate from."""

from __future__ import annotations

from typing import Any

SEEN = [
    "Where the time went in the run of 2026-11-27 (PostgreSQL's activity sampled every 3 s, one",
    "EXPLAIN ANALYZE):",
    "",
    "- Consultation: three passes over `choice_version`. The one that groups the members with",
    "  choices of their own by their codes took 1.4 s of the 1.56 s under EXPLAIN ANALYZE (run",
    "  beside the manifest, so on a busier machine): a parallel scan testing six conditions per",
    "  row (0.9 s), then, estimated at 8,665 rows and meeting 4.4 million, a sort to disk",
    "  (`work_mem` 4 MB) instead of hashing four groups. A bare count is 0.3 s: no exact answer",
    "  that reads every row reaches 0.1 s at 18 million.",
    "- Manifest (334 s): the eligible ids read into one Python list (3 s), an HMAC per member in",
    "  a Python loop (about 36 s), the proxied members resolved, 16 million (pseudonym, id) pairs",
    "  sorted, the Merkle root built from every leaf in memory (about 75 s together), then the",
    "  COPY of 16.2 million `manifest_entry` rows (about 210 s, against 9.3 s for the same rows",
    "  into a plain table): two unique indexes, one on (member_id, manifest_id) filled in",
    "  pseudonym order, and two foreign-key checks per row run at the end of the statement. Every",
    "  id, pair and leaf is held at once: 5.6 GiB.",
    "- Appends: every write transaction takes one advisory lock first and holds it to its",
    "  COMMIT, so the 64 writers (over a pool of 10 write connections) change choices one at a",
    "  time, each with its reads, notice and event inside the lock: one durable commit at a time",
    "  plus the work, a sixth of a bare INSERT+COMMIT; the waiting shows in the p99.",
    "- The proxies seeded here are in force (the million-member seed's wait for their proxy to",
    "  accept, so are not). With them the consultation counted 5 more eligible members than the",
    "  manifest of the same scope listed (16,203,880 against 16,203,875; 90,030 against 90,025",
    "  at 100,000 members): the counts and the list disagree on some proxied members.",
    "- Verify: `bench.ledger_bench`'s seed still wrote events without the carer fields added",
    "  since (`acting_carer_id`, `carer_id`, `proxy_carer_id`); the seed now writes them. Before,",
    '  verify passed with warnings (530,041 rows made by events "recorded before this version")',
    "  and took 61.5 s for 1,000,000 events (16,272 events/s, peak 368 MiB): each such row is",
    "  read back from the log with a query of its own (`coop/record/walk.py`, `_explain`). A",
    "  cooperative whose log predates a field meets that path for every row it made. With the",
    "  seed brought up to date, verify's speed holds from one to three million events, but its",
    "  peak memory grows with the log (344 MiB, then 1,299 MiB); what holds it is not yet traced.",
]
"""What the run showed, beyond its figures."""


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "**no**")


def _old(results: dict[str, Any], name: str, engine: str = "postgresql") -> dict[str, Any]:
    figures: dict[str, Any] = results.get(name, {}).get("figures", {}).get(engine, {})
    return figures


def render(results: dict[str, Any]) -> list[str]:
    r = results["nation"]
    f = r["figures"]["postgresql"]
    n = f["members"]
    scale = n / 1e6
    c, m, a, seed = f["consultation"], f["manifest"], f["appends"], f["seed"]
    notes: list[str] = []
    lines = [
        "## Nation scale (issue 18): where today's code stands",
        "",
        f"Ran {r['when']} on {r['machine']}.",
        "",
        f"{n:,} members seeded on PostgreSQL with the mix of the million-member benchmarks (same",
        "random streams as `bench.choices_bench.seed`: 8% opted out, 20% with choices of their own,",
        "5% behind proxies), straight into the tables as there, but by binary COPY instead of",
        "batched INSERTs (at this size the INSERTs alone would take most of an hour). Each path",
        "measured with today's code, unchanged, beside its floor measured in the same run. Heavy",
        "paths run in a process of their own (peak memory: `resource.getrusage`) and are stopped",
        "after a wall-clock guard. The machine is shared: its load average is shown.",
        "",
        f"Load average: {f['load_at_start']} at the start, {f['load_after_seed']} after seeding, "
        f"{f['load_before_manifest']} before the manifest, {f['load_before_appends']} before the appends. "
        f"Database on disk after seeding: {f['database_bytes'] / 2**30:.1f} GiB. Seeding: rows drawn in "
        f"Python {seed['generate_rows_seconds']} s, COPY into the indexed tables {seed['copy_into_tables_seconds']} s "
        f"(floor: the same choice rows into a plain table, {seed['floor_copy_choice_rows_seconds']} s), "
        f"VACUUM ANALYZE {seed['vacuum_analyze_seconds']} s.",
        "",
        "| target | figure | floor (same run) | target value | met? |",
        "|---|---:|---:|---:|---:|",
        f"| 1. consultation, {n:,} members, PostgreSQL (median of 3) | {c['consultation_seconds']} s "
        f"| bare count(*) {c['floor_bare_count_seconds']} s; count reading every row "
        f"{c['floor_filtered_count_seconds']} s | < 0.1 s | {_met(c['consultation_seconds'] < 0.1)} |",
    ]
    sqlite_consult = _old(results, "permits", "sqlite").get("consultation_seconds")
    sqlite_count = _old(results, "choices-cohort", "sqlite")
    if sqlite_consult is not None:
        lines.append(
            f"| 1. consultation, 1,000,000 members, SQLite (the million-member run above, not this one) "
            f"| {sqlite_consult} s | bare count(*) {sqlite_count.get('bare_count_seconds')} s; every row "
            f"{sqlite_count.get('filtered_count_seconds')} s | < 0.05 s | {_met(sqlite_consult < 0.05)} |"
        )
    if "create_seconds" in m:
        size = m["manifest_size"]
        lines.append(
            f"| 2. manifest created, {size:,} eligible | {m['create_seconds']} s "
            f"| bare COPY of {size:,} pseudonym rows {m.get('floor_copy_seconds', '-')} s | < 90 s "
            f"| {_met(m['create_seconds'] < 90)} |"
        )
    else:
        lines.append(f"| 2. manifest created | {m.get('did_not_finish', 'did not finish')} | - | < 90 s | **no** |")
    if "stream_rows_per_s" in m:
        lines += [
            f"| 2. manifest streamed | {m['stream_rows_per_s']:,} rows/s "
            f"| bare server-side cursor {m.get('floor_stream_rows_per_s', 0):,} rows/s | > 1,000,000 rows/s "
            f"| {_met(m['stream_rows_per_s'] > 1_000_000)} |",
            f"| 2. manifest: the process's peak memory (create, then stream) | {m['peak_rss_mib']:,} MiB "
            f"| - | < 256 MiB | {_met(m['peak_rss_mib'] < 256)} |",
        ]
    dist = _old(results, "money-distribution")
    if dist:
        per_m = dist["total_seconds"] / (dist["members"] / 1e6)
        lines.append(
            f"| 3. distribution, draft + commit | not run at this size: **extrapolated** from the million-member "
            f"run (200 permits), {per_m:.1f} s per million members: {per_m * scale:,.0f} s "
            f"| bare rows {dist['bare_insert_seconds'] * scale:,.0f} s (extrapolated, one row per member) "
            f"| < 300 s | {_met(per_m * scale < 300)} (extrapolated) |"
        )
    report = _old(results, "reports-annual")
    if report:
        per_m = report["total_seconds"] / (report["members"] / 1e6)
        lines.append(
            f"| 4. annual report | not run at this size: **extrapolated** from the million-member run, "
            f"{per_m:.2f} s per million members: {per_m * scale:,.0f} s "
            f"| bare reads {report['bare_reads_seconds'] * scale:,.0f} s (extrapolated) | < 30 s "
            f"| {_met(per_m * scale < 30)} (extrapolated) |"
        )
    failed = f"; {a['failures']} failed ({', '.join(a['failure_kinds'])})" if a["failures"] else ""
    lines.append(
        f"| 5. appends: {a['writers']} writers changing choices through the service "
        f"| {a['changes_per_s']:,} changes/s ({a['ratio_to_floor']}x the floor), p50 {a['p50_ms']} ms, "
        f"p99 {a['p99_ms']} ms{failed} | bare one-row INSERT+COMMIT {a['floor_bare_insert_commit_per_s']:,}/s "
        f"| >= 3x the floor, p99 < 50 ms | {_met(a['ratio_to_floor'] >= 3 and (a['p99_ms'] or 1e9) < 50)} |"
    )
    v = results.get("nation-verify", {}).get("figures", {}).get("postgresql")
    if v:
        rate = v["verify_events_per_s"]
        growth = " (memory at 18M not known)"
        if v.get("smaller"):
            small = v["smaller"][0]
            slope = (v["verify_peak_rss_mib"] - small["verify_peak_rss_mib"]) / ((v["events"] - small["events"]) / 1e6)
            at_18m = v["verify_peak_rss_mib"] + slope * (18 - v["events"] / 1e6)
            growth = f", growing {slope:,.0f} MiB per million events: about {at_18m / 1024:,.1f} GiB at 18M"
        lines.append(
            f"| 6. verify (measured at {v['events']:,} events; 18M is an **extrapolation** per event) "
            f"| {rate:,} events/s: 18,000,000 events in about {18e6 / rate:,.0f} s; peak {v['verify_peak_rss_mib']:,} "
            f"MiB at {v['events']:,}{growth} | raw hashing {v['raw_hashlib_events_per_s']:,} "
            f"events/s | > 300,000 events/s, < 1 GiB | {_met(rate > 300_000 and v['verify_peak_rss_mib'] < 1024)} "
            "(extrapolated) |"
        )
        for small in v.get("smaller", []):
            notes.append(
                f"Verify at {small['events']:,} events in the same run: {small['verify_events_per_s']:,} events/s, "
                f"peak {small['verify_peak_rss_mib']:,} MiB."
            )
        if not v.get("verify_ok", True) or v.get("warnings"):
            verdict = "found problems" if not v.get("verify_ok", True) else "passed with warnings"
            notes.append(
                f"Verify of the seeded log {verdict}: {'; '.join(v.get('problems', []) + v.get('warnings', []))}"
            )
    else:
        old = _old(results, "ledger-verify-proofs")
        if old:
            lines.append(
                f"| 6. verify (not run here: the million-event run above; 18M is an **extrapolation**) "
                f"| {old['verify_events_per_s']:,} events/s: 18,000,000 events in about "
                f"{18e6 / old['verify_events_per_s']:,.0f} s; memory not measured "
                f"| raw hashing {f['raw_hashing_events_per_s']:,} events/s (this run) | > 300,000 events/s, < 1 GiB "
                f"| {_met(old['verify_events_per_s'] > 300_000)} (extrapolated) |"
            )
    lines += ["", *notes, *([""] if notes else []), *SEEN]
    lines += [
        "",
        "Seconds per million members (per million manifest rows for the manifest), for extrapolating:",
        "",
        "| path | s per million |",
        "|---|---:|",
    ]
    for path, seconds in f["seconds_per_million_members"].items():
        lines.append(f"| {path.replace('_', ' ')} | {seconds} |")
    lines.append("")
    return lines
