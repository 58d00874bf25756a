"""The RESULTS.md section of the nation-scale baseline (issue 18): each target beside its
floor, and the per-million costs the scaling notes extrapolate from."""

from __future__ import annotations

from typing import Any

NATION = 18_000_000
"""Every resident of the Netherlands: the size issue 18 sets its targets at."""
NOTES = "nation-notes"
"""The key in results.json of what a run showed beyond its figures (lines of Markdown)."""
BASELINE = "nation-baseline"
"""The key in results.json of the first nation-scale run (today's code before issue 18's work),
kept so that every later run is shown beside it."""


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "**no**")


def _old(results: dict[str, Any], name: str, engine: str = "postgresql") -> dict[str, Any]:
    figures: dict[str, Any] = results.get(name, {}).get("figures", {}).get(engine, {})
    return figures


def _was(base: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(base, dict) or key not in base:
            return "-"
        base = base[key]
    return base


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def render(results: dict[str, Any]) -> list[str]:
    r = results["nation"]
    f = r["figures"]["postgresql"]
    n = f["members"]
    c, m, a, seed = f["consultation"], f["manifest"], f["appends"], f["seed"]
    base = results.get(BASELINE, {})
    b = base.get("nation", {})
    bm = base.get("manifest", {})
    notes: list[str] = []
    lines = [
        "## Nation scale (issue 18)",
        "",
        f"Targets 1, 2 and 5 (`coop bench nation`): ran {r['when']} on {r['machine']}.",
        "",
        f"{n:,} members seeded on PostgreSQL with the mix of the million-member benchmarks (same",
        "random streams as `bench.choices_bench.seed`: 8% opted out, 20% with choices of their own,",
        "5% behind 1,000 proxies, in force), straight into the tables by binary COPY, then the choice",
        "profiles counted from them (`coop ledger recount-profiles`, as an operator does after",
        "loading rows around the services). Each path measured beside its floor measured in the same",
        "run; heavy paths run in a process of their own (its own peak memory, `VmHWM`) and",
        "are stopped after a wall-clock guard. The column *before* is the first run at this size",
        f"({base.get('when', '-')}), with the code as it was before this work.",
        "",
        f"Load average: {f['load_at_start']} at the start, {f['load_after_seed']} after seeding, "
        f"{f['load_before_manifest']} before the manifest, {f['load_before_appends']} before the appends. "
        f"Database on disk after seeding: {f['database_bytes'] / 2**30:.1f} GiB. Seeding: rows drawn in "
        f"Python {seed['generate_rows_seconds']} s, COPY into the indexed tables {seed['copy_into_tables_seconds']} s "
        f"(floor: the same choice rows into a plain table, {seed['floor_copy_choice_rows_seconds']} s), "
        f"VACUUM ANALYZE {seed['vacuum_analyze_seconds']} s, choice profiles counted "
        f"{seed.get('recount_profiles_seconds', '-')} s ({seed.get('recounted_profiles', 0):,} profiles).",
        "",
        "| target | before | now | floor (same run) | target value | met? |",
        "|---|---:|---:|---:|---:|---:|",
        f"| 1. consultation, {n:,} members, PostgreSQL (median of 3) | {_was(b, 'consultation_seconds')} s "
        f"| {c['consultation_seconds']} s | bare count(*) {c['floor_bare_count_seconds']} s; count reading every "
        f"row {c['floor_filtered_count_seconds']} s | < 0.1 s | {_met(c['consultation_seconds'] < 0.1)} |",
    ]
    sqlite = base.get("sqlite_consultation", {})
    if sqlite:
        lines.append(
            f"| 1. consultation, 1,000,000 members, SQLite | {sqlite['before']} s | {sqlite['now']} s "
            f"| every row {sqlite['floor']} s | < 0.05 s | {_met(sqlite['now'] < 0.05)} ({sqlite['where']}) |"
        )
    if "create_seconds" in m:
        size = m["manifest_size"]
        lines.append(
            f"| 2. manifest created, {size:,} eligible | {_was(bm, 'create_seconds')} s | {m['create_seconds']} s "
            f"| bare COPY of {size:,} pseudonym rows {m.get('floor_copy_seconds', '-')} s | < 90 s "
            f"| {_met(m['create_seconds'] < 90)} |"
        )
    else:
        lines.append(
            f"| 2. manifest created | {_was(bm, 'create_seconds')} s | {m.get('did_not_finish', 'did not finish')} "
            "| - | < 90 s | **no** |"
        )
    if "stream_rows_per_s" in m:
        lines += [
            f"| 2. manifest streamed | {_n(_was(bm, 'stream_rows_per_s'))} rows/s | {m['stream_rows_per_s']:,} rows/s "
            f"| bare server-side cursor {m.get('floor_stream_rows_per_s', 0):,} rows/s | > 1,000,000 rows/s "
            f"| {_met(m['stream_rows_per_s'] > 1_000_000)} |",
            f"| 2. manifest: the process's peak memory (create, then stream) | {_n(_was(bm, 'peak_rss_mib'))} MiB "
            f"| {m['peak_rss_mib']:,} MiB | - | < 256 MiB | {_met(m['peak_rss_mib'] < 256)} |",
        ]
    money = results.get("nation-money", {}).get("figures", {}).get("postgresql")
    if money:
        ran = results["nation-money"]
        lines[2] += (
            f" Targets 3 and 4 (`coop bench nation-money`, its own seeding of {money['members']:,} members): "
            f"ran {ran['when']} on {ran['machine']}; load average {money['load_before_distribution']} before "
            f"the distribution, {money['load_before_report']} before the report."
        )
        size, scale = money["members"], 18e6 / money["members"]
        d, rep = money["distribution"], money["annual_report"]
        measured = size >= 18_000_000
        at = (
            f"measured at {size:,} members and {money['permits']} permits"
            if measured
            else f"measured at {size:,} members and {money['permits']} permits, **extrapolated** per member to 18M"
        )
        extrapolated = "" if measured else " (extrapolated)"

        def at_18m(seconds: float) -> str:
            return "" if measured else f"; about {seconds * scale:,.0f} s at 18M"

        told = (
            f" (then the mail worker's pass writes {_n(d['messages'])} dividend messages in {d['messages_seconds']} s)"
            if "messages_seconds" in d
            else ""
        )
        lines += [
            f"| 3. distribution, draft + commit ({at}) | {_was(base, 'distribution_18m_seconds')} s "
            f"(extrapolated) | {d['total_seconds']} s{at_18m(d['total_seconds'])}{told} "
            f"| COPY of one keyed row per member {d['floor_copy_share_key_seconds']} s"
            f"{at_18m(d['floor_copy_share_key_seconds'])} | < 300 s "
            f"| {_met(d['total_seconds'] * scale < 300)}{extrapolated} |",
        ]
        following = money.get("next_year")
        if following:
            lines.append(
                f"| 3. distribution, the next year (the members' accounts open already; {at}) | - "
                f"| {following['total_seconds']} s{at_18m(following['total_seconds'])} (draft "
                f"{following['draft_seconds']}, ask {following['ask_seconds']}, commit {following['commit_seconds']}) "
                f"| - | < 300 s | {_met(following['total_seconds'] * scale < 300)}{extrapolated} |"
            )
        lines += [
            f"| 4. annual report ({at}) | {_was(base, 'report_18m_seconds')} s (extrapolated) "
            f"| {rep['total_seconds']} s{at_18m(rep['total_seconds'])} "
            f"| bare reads {rep['floor_bare_reads_seconds']} s{at_18m(rep['floor_bare_reads_seconds'])} "
            f"| < 30 s | {_met(rep['total_seconds'] * scale < 30)}{extrapolated} |",
        ]
    ba = b.get("appends", {})
    for label, x in (("through the service", a), ("through HTTP (uvicorn, same machine)", a.get("http"))):
        if not x:
            continue
        failed = f"; {x['failures']} failed ({', '.join(x['failure_kinds'])})" if x["failures"] else ""
        before = f"{ba['changes_per_s']:,}/s, p99 {ba['p99_ms']} ms" if ba and x is a else "-"
        lines.append(
            f"| 5. appends: {x['writers']} writers changing choices {label} | {before} "
            f"| {x['changes_per_s']:,} changes/s ({x['ratio_to_floor']}x the floor), p50 {x['p50_ms']} ms, "
            f"p99 {x['p99_ms']} ms{failed} | bare one-row INSERT+COMMIT {a['floor_bare_insert_commit_per_s']:,}/s "
            f"| >= 3x the floor, p99 < 50 ms | {_met(x['ratio_to_floor'] >= 3 and (x['p99_ms'] or 1e9) < 50)} |"
        )
    v = results.get("nation-verify", {}).get("figures", {}).get("postgresql")
    if v:
        runs = [*v.get("smaller", []), v]
        rate = v["verify_events_per_s"]
        peaks = ", ".join(f"{x['verify_peak_rss_mib']:,} MiB at {x['events']:,}{_tallying(x)}" for x in runs)
        bv = base.get("verify", {})
        sizes = ", ".join(f"{x['events']:,}" for x in runs)
        measured = v["events"] >= NATION
        how = "" if measured else "; 18M by **extrapolation** per event"
        took = f"{v['verify_seconds']} s" if measured else f"18M in about {NATION / rate:,.0f} s"
        lines.append(
            f"| 6. verify (measured at {sizes} events{how}) | {_n(_was(bv, 'events_per_s'))} events/s; "
            f"{_was(bv, 'peaks')} | {rate:,} events/s ({took}); peak {peaks} "
            f"| raw hashing {v['raw_hashlib_events_per_s']:,} events/s | > 300,000 events/s, < 1 GiB "
            f"| {_met(rate > 300_000 and max(_peak(x) for x in runs) < 1024)}"
            f"{'' if measured else ' (extrapolated)'} |"
        )
        if not v.get("verify_ok", True) or v.get("warnings"):
            verdict = "found problems" if not v.get("verify_ok", True) else "passed with warnings"
            notes.append(
                f"Verify of the seeded log {verdict}: {'; '.join(v.get('problems', []) + v.get('warnings', []))}"
            )
    lines += ["", *notes, *([""] if notes else []), *results.get(NOTES, [])]
    lines += [
        "",
        "Seconds per million members (per million manifest rows for the manifest), for extrapolating:",
        "",
        "| path | s per million |",
        "|---|---:|",
    ]
    per_million = dict(f["seconds_per_million_members"])
    if money:
        per_million.update(
            {
                f"{k} ({money['permits']} permits)" if k == "distribution" else k: v
                for k, v in money["seconds_per_million_members"].items()
            }
        )
    for path, seconds in per_million.items():
        lines.append(f"| {path.replace('_', ' ')} | {seconds} |")
    lines.append("")
    return lines


def _tallying(run: dict[str, Any]) -> str:
    """The largest tallying process's peak, where the run measured it."""
    peak = run.get("verify_tally_peak_rss_mib")
    return "" if peak is None else f" (the largest tallying process {peak:,} MiB)"


def _peak(run: dict[str, Any]) -> int:
    """The larger of the verifying process's peak and its largest tallying process's."""
    return max(int(run["verify_peak_rss_mib"]), int(run.get("verify_tally_peak_rss_mib") or 0))
