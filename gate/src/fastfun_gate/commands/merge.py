"""Merge the JSON reports of a sharded comparison into one verdict and report.

    fastfun-gate merge shard-1.json shard-2.json ... [--json FILE] [--markdown FILE]

Every shard of the same comparison (base, head, settings, shard count) must be there, once;
no benchmark may be in two shards. Exit status as ``compare``'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fastfun_gate import compare, config, report
from fastfun_gate.commands import Command
from fastfun_gate.errors import UsageError

SAME = ("base", "head", "threshold", "thresholds", "tripwire", "config")  # what shards must share


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="+", metavar="SHARD.json", help="the shards' --json reports")
    parser.add_argument("--json", metavar="FILE", help="write the merged JSON report here")
    parser.add_argument("--markdown", metavar="FILE", help="write the merged markdown report here")


def run(args: argparse.Namespace) -> int:
    shards = [(Path(path), report.load(Path(path))) for path in args.reports]
    merged = merge(shards)
    print(report.text(merged))
    report.write(merged, config.resolved(args.json), config.resolved(args.markdown))
    return merged.verdict.exit_status


def merge(shards: list[tuple[Path, dict[str, Any]]]) -> report.Report:
    """One report of the shards; UsageError, in one line, when they are not the complete,
    disjoint shards of one comparison."""
    first_path, first = shards[0]
    seen: dict[int, Path] = {}
    owner: dict[str, Path] = {}
    for path, data in shards:
        shard = data.get("shard")
        if not shard:
            raise UsageError(f"merge: {path} is not a shard's report (no --shard K/N)")
        if shard["count"] != first["shard"]["count"]:
            raise UsageError(
                f"merge: {path} is shard {shard['index']}/{shard['count']}, {first_path} of {first['shard']['count']}"
            )
        for key in SAME:
            if data.get(key) != first.get(key):
                raise UsageError(
                    f"merge: {path} and {first_path} are not of one comparison: their {key} differ"
                )
        if shard["index"] in seen:
            raise UsageError(
                f"merge: {path} and {seen[shard['index']]} are both shard {shard['index']}/{shard['count']}"
            )
        seen[shard["index"]] = path
        for item in data["benchmarks"]:
            if item["name"] in owner:
                raise UsageError(f"merge: {item['name']} is in two shards: {owner[item['name']]} and {path}")
            owner[item["name"]] = path
    count = first["shard"]["count"]
    missing = [str(k) for k in range(1, count + 1) if k not in seen]
    if missing:
        raise UsageError(f"merge: shard(s) {', '.join(missing)} of {count} missing")
    ordered = [data for _, data in sorted(shards, key=lambda pair: pair[1]["shard"]["index"])]
    rows = [report.row_from_json(item) for data in ordered for item in data["benchmarks"]]
    problems = [f"shard {d['shard']['index']}/{count}: {p}" for d in ordered for p in d.get("problems", [])]
    return report.Report(
        compare.decide(rows, problems),
        base=first.get("base"),
        head=first.get("head"),
        threshold=first.get("threshold"),
        thresholds=first.get("thresholds") or {},
        tripwire=first.get("tripwire"),
        config=first.get("config", ""),
        seconds=max(float(d.get("seconds", 0)) for d in ordered),
        accepted=first.get("accepted", []),
    )


COMMAND = Command(
    "merge", "merge the JSON reports of the shards of one comparison", add_arguments, run, __doc__
)
