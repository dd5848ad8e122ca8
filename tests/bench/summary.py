"""The benchmark summary: reads the JSON the individual benches wrote under var/bench/, writes
var/bench/summary.json and var/bench/summary.svg (a chart with the figures as text labels)
and prints a compact table. A part whose file is missing or lacks the figure is reported as
"not measured", never estimated.

Inputs (each optional):

- turns.json (tests/bench/rasa_turns.py): closed_loop.voordeur[] and rasa_init[] turns_per_s
  (the best round of each), ratio, open_load[] p50/p95/p99 per offered rate, twilio p99;
- scale.json (tests/bench/scale_out.py): runs[] of {instances, turns_per_s}, ratio (2 / 1);
- api.json (tests/bench/api_latency.py): per database creates/s, list and inbox p95 (one
  client), the number of seeded handovers;
- nlu.json (tests/bench/nlu_crossval.py): per pipeline intent accuracy, macro and weighted F1;
- memory.json (tests/bench/resources.py memory): peak resident set per service under load;
- training.json (tests/bench/resources.py train): seconds and peak resident set of rasa train;
- first_answer.json (tests/bench/first_answer.py): seconds from `./voordeur run` on a clean
  clone to the first answer.

    python tests/bench/summary.py [--dir var/bench]

Stdlib only: runs with either virtualenv's Python (or any Python 3.11).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.bench.chart import NOT_MEASURED, Bar, Panel, number, render  # noqa: E402

DEFAULT_DIR = REPO / "var" / "bench"
SOURCES = {
    "turns": "turns.json",
    "scale": "scale.json",
    "api": "api.json",
    "nlu": "nlu.json",
    "memory": "memory.json",
    "training": "training.json",
    "first_answer": "first_answer.json",
}
# Issue 14's targets.
TARGETS = {
    "turns_ratio": 1.0,  # Voordeur turns/s divided by rasa init's, at least
    "p95_ms_at_15": 300.0,  # REST turn p95 at 15 msg/s, below
    "twilio_p99_ms": 500.0,  # below
    "scale_ratio": 1.7,  # 2 instances / 1 instance, at least
    "creates_per_s": {"sqlite": 300.0, "postgresql": 500.0},  # above
    "list_p95_ms": 50.0,  # below
    "first_answer_s": 300.0,  # from `./voordeur run` on a clean clone, at most
}
SERVICES = ["rasa", "action-server", "handover-api", "worker", "review-consumer", "mailbox"]


# --- reading -----------------------------------------------------------------------------------


def load(directory: Path) -> dict[str, dict[str, Any] | None]:
    """The benches' JSON by part; None when a file is missing or not valid JSON."""
    data: dict[str, dict[str, Any] | None] = {}
    for part, name in SOURCES.items():
        path = directory / name
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = None
        data[part] = loaded if isinstance(loaded, dict) else None
    return data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _best(runs: Any, key: str = "turns_per_s") -> float | None:
    values = [_num(r.get(key)) for r in runs or [] if isinstance(r, dict)]
    known = [v for v in values if v is not None]
    return max(known) if known else None


# --- collecting --------------------------------------------------------------------------------


def collect_turns(turns: dict[str, Any] | None) -> dict[str, Any]:
    closed = (turns or {}).get("closed_loop") or {}
    voordeur = _best(closed.get("voordeur"))
    rasa_init = _best(closed.get("rasa_init"))
    ratio = _num((turns or {}).get("ratio"))
    if ratio is None and voordeur is not None and rasa_init:
        ratio = round(voordeur / rasa_init, 2)
    latency = []
    for run in (turns or {}).get("open_load") or []:
        if not isinstance(run, dict):
            continue
        latency.append(
            {
                "rate": _num(run.get("offered_msg_per_s")),
                "p50_ms": _num(run.get("p50_ms")),
                "p95_ms": _num(run.get("p95_ms")),
                "p99_ms": _num(run.get("p99_ms")),
                "errors": run.get("errors"),
                "turns": run.get("turns"),
            }
        )
    twilio = (turns or {}).get("twilio") if isinstance((turns or {}).get("twilio"), dict) else {}
    return {
        "closed_loop": {
            "voordeur_turns_per_s": voordeur,
            "rasa_init_turns_per_s": rasa_init,
            "ratio": ratio,
            "target_ratio": TARGETS["turns_ratio"],
            "met": None if ratio is None else ratio >= TARGETS["turns_ratio"],
        },
        "open_load": latency,
        "twilio": {
            "p99_ms": _num(twilio.get("p99_ms")),
            "rate": _num(twilio.get("offered_msg_per_s")),
            "errors": twilio.get("errors"),
            "target_p99_ms": TARGETS["twilio_p99_ms"],
            "met": None
            if _num(twilio.get("p99_ms")) is None
            else twilio["p99_ms"] < TARGETS["twilio_p99_ms"],
        },
    }


def collect_scale(scale: dict[str, Any] | None) -> dict[str, Any]:
    runs = []
    for run in (scale or {}).get("runs") or []:
        if isinstance(run, dict) and _num(run.get("instances")) is not None:
            runs.append(
                {"instances": int(run["instances"]), "turns_per_s": _num(run.get("turns_per_s"))}
            )
    ratio = _num((scale or {}).get("ratio"))
    return {
        "runs": runs,
        "ratio": ratio,
        "target_ratio": TARGETS["scale_ratio"],
        "met": None if ratio is None else ratio >= TARGETS["scale_ratio"],
    }


def collect_api(api: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    databases = (api or {}).get("databases") or {}
    for kind in ("sqlite", "postgresql"):
        db = databases.get(kind) if isinstance(databases.get(kind), dict) else None
        creates = _num(((db or {}).get("create") or {}).get("per_s"))
        list_p95 = _num(((db or {}).get("list") or {}).get("p95_ms"))
        inbox_p95 = _num(((db or {}).get("inbox") or {}).get("p95_ms"))
        target = TARGETS["creates_per_s"][kind]
        out[kind] = {
            "seeded_handovers": (db or {}).get("seeded_handovers"),
            "workers": (db or {}).get("workers"),
            "creates_per_s": creates,
            "target_creates_per_s": target,
            "creates_met": None if creates is None else creates > target,
            "list_p95_ms": list_p95,
            "inbox_p95_ms": inbox_p95,
            "target_list_p95_ms": TARGETS["list_p95_ms"],
            "list_met": None if list_p95 is None else list_p95 < TARGETS["list_p95_ms"],
            "inbox_met": None if inbox_p95 is None else inbox_p95 < TARGETS["list_p95_ms"],
        }
    return out


def collect_nlu(nlu: dict[str, Any] | None) -> dict[str, Any]:
    pipelines = []
    for p in (nlu or {}).get("pipelines") or []:
        if not isinstance(p, dict):
            continue
        pipelines.append(
            {
                "label": str(p.get("label") or p.get("config") or "?"),
                "config": p.get("config"),
                "accuracy": _num(p.get("accuracy")),
                "macro_f1": _num(p.get("macro_f1")),
                "weighted_f1": _num(p.get("weighted_f1")),
            }
        )
    return {
        "folds": (nlu or {}).get("folds"),
        "pipelines": pipelines,
        "held_out": (nlu or {}).get("held_out"),
    }


def collect_resources(
    memory: dict[str, Any] | None,
    training: dict[str, Any] | None,
    first_answer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    services = (memory or {}).get("services") or {}
    # The three services always appear (as "not measured" without memory.json).
    names = [n for n in SERVICES if n in services or n in SERVICES[:3]]
    names += [n for n in services if n not in names]
    peaks = {name: _num((services.get(name) or {}).get("peak_rss_mb")) for name in names}
    ok = training is not None and training.get("returncode", 0) == 0
    return {
        "peak_rss_mb": peaks,
        "load_turns": ((memory or {}).get("load") or {}).get("turns"),
        "training_seconds": _num((training or {}).get("seconds")) if ok else None,
        "training_peak_rss_mb": _num((training or {}).get("peak_rss_mb")) if ok else None,
        "first_answer_s": _num((first_answer or {}).get("seconds_to_first_answer")),
    }


def collect(data: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The summary (summary.json) from the benches' JSON; a missing figure stays None."""
    return {
        "sources": {part: (SOURCES[part] if data.get(part) else None) for part in SOURCES},
        "turns": collect_turns(data.get("turns")),
        "scale": collect_scale(data.get("scale")),
        "api": collect_api(data.get("api")),
        "nlu": collect_nlu(data.get("nlu")),
        "resources": collect_resources(
            data.get("memory"), data.get("training"), data.get("first_answer")
        ),
        "targets": TARGETS,
    }


# --- showing -----------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    return NOT_MEASURED if value is None else f"{number(value)}{unit}"


def rate(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _status(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "MISSED")


def rows(summary: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, figure, target, met/MISSED) for the printed table."""
    out: list[tuple[str, str, str, str]] = []
    closed = summary["turns"]["closed_loop"]
    out.append(("closed loop, Voordeur", fmt(closed["voordeur_turns_per_s"], " turns/s"), "", ""))
    out.append(("closed loop, rasa init", fmt(closed["rasa_init_turns_per_s"], " turns/s"), "", ""))
    out.append(
        ("ratio Voordeur / rasa init", fmt(closed["ratio"]), ">= 1.0", _status(closed["met"]))
    )
    latency = summary["turns"]["open_load"]
    if not latency:
        out.append(("REST turn latency, open load", NOT_MEASURED, "", ""))
    for run in latency:
        met = None
        target = ""
        if run["rate"] == 15 and run["p95_ms"] is not None:
            met, target = run["p95_ms"] < TARGETS["p95_ms_at_15"], "p95 < 300 ms"
        figure = (
            f"p50 {fmt(run['p50_ms'])} / p95 {fmt(run['p95_ms'])} / p99 {fmt(run['p99_ms'])} ms"
            f", errors {run['errors']}"
        )
        out.append((f"REST turn at {rate(run['rate'])} msg/s", figure, target, _status(met)))
    twilio = summary["turns"]["twilio"]
    out.append(
        ("Twilio webhook p99", fmt(twilio["p99_ms"], " ms"), "< 500 ms", _status(twilio["met"]))
    )
    scale = summary["scale"]
    if not scale["runs"]:
        out.append(("production profile, 1 and 2 instances", NOT_MEASURED, "", ""))
    for run in scale["runs"]:
        what = f"production, {run['instances']} instance(s)"
        out.append((what, fmt(run["turns_per_s"], " turns/s"), "", ""))
    out.append(("2 instances / 1", fmt(scale["ratio"]), ">= 1.7", _status(scale["met"])))
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        db = summary["api"][kind]
        seeded = db["seeded_handovers"]
        at = f" ({seeded:,} handovers)" if isinstance(seeded, int) else ""
        out.append(
            (
                f"API creates, {name}{at}",
                fmt(db["creates_per_s"], "/s"),
                f"> {number(db['target_creates_per_s'])}/s",
                _status(db["creates_met"]),
            )
        )
        for key, met, what in (
            ("list_p95_ms", "list_met", "API list p95"),
            ("inbox_p95_ms", "inbox_met", "staff inbox p95"),
        ):
            out.append((f"{what}, {name}", fmt(db[key], " ms"), "< 50 ms", _status(db[met])))
    nlu = summary["nlu"]
    if not nlu["pipelines"]:
        out.append(("NLU cross-validation", NOT_MEASURED, "", ""))
    for p in nlu["pipelines"]:
        figure = (
            f"accuracy {fmt(p['accuracy'])}, macro F1 {fmt(p['macro_f1'])}, "
            f"weighted F1 {fmt(p['weighted_f1'])}"
        )
        out.append((f"NLU {p['label']}", figure, "", ""))
    if nlu["held_out"] is None:
        out.append(("NLU held-out set", NOT_MEASURED, "", ""))
    res = summary["resources"]
    first = res["first_answer_s"]
    met = None if first is None else first <= TARGETS["first_answer_s"]
    out.append(("first answer after ./voordeur run", fmt(first, " s"), "<= 300 s", _status(met)))
    out.append(("rasa train time", fmt(res["training_seconds"], " s"), "", ""))
    out.append(("rasa train peak RSS", fmt(res["training_peak_rss_mb"], " MB"), "", ""))
    for name, mb in res["peak_rss_mb"].items():
        out.append((f"peak RSS under load, {name}", fmt(mb, " MB"), "", ""))
    return out


def table(summary: dict[str, Any]) -> str:
    lines = rows(summary)
    widths = [max(len(r[i]) for r in lines) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in lines
    )


def panels(summary: dict[str, Any]) -> list[Panel]:
    closed = summary["turns"]["closed_loop"]
    ratio = closed["ratio"]
    result = [
        Panel(
            "Closed-loop throughput, REST channel (best round)",
            [
                Bar("Voordeur", closed["voordeur_turns_per_s"]),
                Bar("rasa init bot", closed["rasa_init_turns_per_s"]),
            ],
            unit=" turns/s",
            note=f"ratio {fmt(ratio)} (target >= 1.0"
            + ("" if closed["met"] is None else (": met)" if closed["met"] else ": missed)")),
        )
    ]
    latency_bars = []
    for run in summary["turns"]["open_load"]:
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            target = TARGETS["p95_ms_at_15"] if run["rate"] == 15 and key == "p95_ms" else None
            met = None if target is None or run[key] is None else run[key] < target
            latency_bars.append(
                Bar(
                    f"{rate(run['rate'])} msg/s {key[:3]}",
                    run[key],
                    target=target,
                    target_text="target < 300 ms" if target else "",
                    met=met,
                )
            )
    twilio = summary["turns"]["twilio"]
    latency_bars.append(
        Bar(
            "Twilio webhook p99",
            twilio["p99_ms"],
            target=TARGETS["twilio_p99_ms"],
            target_text="target < 500 ms",
            met=twilio["met"],
        )
    )
    result.append(
        Panel(
            "Turn latency at an open load (50 conversations)",
            latency_bars
            if summary["turns"]["open_load"]
            else [Bar("REST turns", None), *latency_bars],
            unit=" ms",
        )
    )
    scale = summary["scale"]
    result.append(
        Panel(
            "Production profile: instances behind the load balancer",
            [Bar(f"{r['instances']} instance(s)", r["turns_per_s"]) for r in scale["runs"]]
            or [Bar("1 and 2 instances", None)],
            unit=" turns/s",
            note=f"ratio 2/1 {fmt(scale['ratio'])} (target >= 1.7)",
        )
    )
    api_bars, list_bars = [], []
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        db = summary["api"][kind]
        api_bars.append(
            Bar(
                name,
                db["creates_per_s"],
                target=db["target_creates_per_s"],
                target_text=f"target > {number(db['target_creates_per_s'])}/s",
                met=db["creates_met"],
            )
        )
        for key, what in (("list_p95_ms", "API list p95"), ("inbox_p95_ms", "staff inbox p95")):
            met = db["list_met"] if key == "list_p95_ms" else db["inbox_met"]
            list_bars.append(
                Bar(
                    f"{name} {what}",
                    db[key],
                    target=TARGETS["list_p95_ms"],
                    target_text="target < 50 ms",
                    met=met,
                )
            )
    seeded = {summary["api"][k]["seeded_handovers"] for k in ("sqlite", "postgresql")} - {None}
    note = (
        f"{', '.join(f'{s:,}' for s in sorted(seeded))} handovers in the database" if seeded else ""
    )
    result.append(Panel("Handover API creates per second", api_bars, unit="/s", note=note))
    result.append(Panel("Staff list, one client (p95)", list_bars, unit=" ms", note=note))
    nlu_bars = []
    for p in summary["nlu"]["pipelines"]:
        nlu_bars.append(Bar(f"{p['label']}: accuracy", p["accuracy"]))
        nlu_bars.append(Bar(f"{p['label']}: macro F1", p["macro_f1"]))
    folds = summary["nlu"]["folds"]
    result.append(
        Panel(
            "NLU intent cross-validation" + (f", {folds} folds" if folds else ""),
            nlu_bars or [Bar("pipelines", None)],
            note="held-out set: " + ("see nlu.json" if summary["nlu"]["held_out"] else "none"),
        )
    )
    res = summary["resources"]
    mem_bars = [Bar(f"{name} (under load)", mb) for name, mb in res["peak_rss_mb"].items()]
    mem_bars.append(Bar("rasa train", res["training_peak_rss_mb"]))
    result.append(Panel("Peak memory (VmHWM, process group)", mem_bars, unit=" MB"))
    result.append(
        Panel(
            "Training time",
            [
                Bar("rasa train --force (bot/config.yml)", res["training_seconds"]),
                Bar("clean clone: ./voordeur run to first answer", res["first_answer_s"]),
            ],
            unit=" s",
        )
    )
    return result


def write(directory: Path) -> dict[str, Any]:
    summary = collect(load(directory))
    summary["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (directory / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    svg = render(
        "Voordeur benchmarks (issue 14)",
        panels(summary),
        subtitle=f"{summary['generated_at']}; inputs: "
        + ", ".join(name for name in summary["sources"].values() if name),
    )
    (directory / "summary.svg").write_text(svg, encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the JSON files are")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    summary = write(args.dir)
    print(table(summary))
    print(f"Written: {args.dir / 'summary.json'}, {args.dir / 'summary.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
