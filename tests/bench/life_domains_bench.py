"""Benchmark of the life-domain / crisis / urgency detector against a labelled set.

Runs ``bot.life_domains.detect`` (no Rasa model, no training) over
``tests/bench/life_domains_eval.yml`` and prints:

* precision / recall / F1 per life domain, micro and macro averages;
* crisis recall and precision per crisis type, and how often the third-party flag is right;
* urgent-signal (eviction / cut-off) recall and precision;
* the negation false-positive rate: of the domains a message explicitly denies ("ik heb geen
  schulden"), the share the detector still reports;
* latency per utterance (mean, p50, p95, max) after one warm-up call;
* a summary per split: "tuning" (the patterns were iterated on it) and "holdout" (written after
  tuning and not tuned on; the honest estimate).

Usage (from the repo root)::

    .venv-rasa/bin/python tests/bench/life_domains_bench.py [--errors] [--eval FILE]

``--errors`` also lists every wrongly labelled utterance. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

DEFAULT_EVAL = REPO / "tests" / "bench" / "life_domains_eval.yml"
CONTRACT = REPO / "contract" / "life_domains.yml"  # the repository's copy of the contract


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def load_examples(path: Path) -> list[dict[str, Any]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["examples"])


def domain_codes(examples: list[dict[str, Any]]) -> list[str]:
    import yaml

    if CONTRACT.exists():
        return list(yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["domains"])
    return sorted({c for e in examples for c in e.get("domains") or []})


@dataclass
class Scores:
    domains: dict[str, Counter] = field(default_factory=dict)
    crisis: dict[str, Counter] = field(default_factory=dict)
    urgent: Counter = field(default_factory=Counter)
    third: Counter = field(default_factory=Counter)
    negated_total: int = 0
    negated_fp: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def micro(self) -> tuple[float, float, float]:
        total: Counter = Counter()
        for c in self.domains.values():
            total.update(c)
        return prf(total["tp"], total["fp"], total["fn"])

    def crisis_all(self) -> tuple[float, float, int]:
        total: Counter = Counter()
        for c in self.crisis.values():
            total.update(c)
        p, r, _ = prf(total["tp"], total["fp"], total["fn"])
        return p, r, total["tp"] + total["fn"]


def evaluate(detector: Any, examples: list[dict[str, Any]], codes: list[str]) -> Scores:
    scores = Scores(
        domains={c: Counter() for c in codes},
        crisis={t: Counter() for t in detector.crisis_priority},
    )
    for ex in examples:
        text = ex["text"]
        t0 = time.perf_counter()
        det = detector.detect(text)
        scores.latencies.append((time.perf_counter() - t0) * 1000)
        gold = set(ex.get("domains") or [])
        pred = set(det.codes)
        for c in codes:
            if c in gold and c in pred:
                scores.domains[c]["tp"] += 1
            elif c in pred:
                scores.domains[c]["fp"] += 1
            elif c in gold:
                scores.domains[c]["fn"] += 1

        gold_crisis = ex.get("crisis")
        pred_crisis = det.crisis[0] if det.crisis else None
        for t, counter in scores.crisis.items():
            if gold_crisis == t and pred_crisis == t:
                counter["tp"] += 1
            elif pred_crisis == t:
                counter["fp"] += 1
            elif gold_crisis == t:
                counter["fn"] += 1
        third_ok = True
        if det.crisis and gold_crisis and pred_crisis == gold_crisis:
            third_ok = bool(ex.get("third_party", False)) == det.crisis[1]
            scores.third["ok" if third_ok else "wrong"] += 1

        gold_urgent, pred_urgent = ex.get("urgent"), det.urgent
        if gold_urgent and pred_urgent == gold_urgent:
            scores.urgent["tp"] += 1
        else:
            scores.urgent["fp"] += int(pred_urgent is not None)
            scores.urgent["fn"] += int(gold_urgent is not None)

        for c in ex.get("negated") or []:
            scores.negated_total += 1
            scores.negated_fp += int(c in pred)

        if pred != gold or pred_crisis != gold_crisis or pred_urgent != gold_urgent or not third_ok:
            parts = []
            if pred - gold:
                parts.append(f"+{sorted(pred - gold)}")
            if gold - pred:
                parts.append(f"-{sorted(gold - pred)}")
            if pred_crisis != gold_crisis:
                parts.append(f"crisis {gold_crisis} -> {pred_crisis}")
            elif not third_ok and det.crisis:
                parts.append(f"third_party -> {det.crisis[1]}")
            if pred_urgent != gold_urgent:
                parts.append(f"urgent {gold_urgent} -> {pred_urgent}")
            split = ex.get("split", "tuning")
            scores.errors.append(f"  [{split}] {text!r}: {'; '.join(parts)}")
    return scores


def print_report(scores: Scores, codes: list[str]) -> None:
    print(f"{'domain':32} {'prec':>6} {'rec':>6} {'F1':>6} {'support':>8}")
    f1s = []
    for c in codes:
        counter = scores.domains[c]
        p, r, f = prf(counter["tp"], counter["fp"], counter["fn"])
        f1s.append(f)
        print(f"{c:32} {p:6.3f} {r:6.3f} {f:6.3f} {counter['tp'] + counter['fn']:8d}")
    p, r, f = scores.micro()
    support = sum(c["tp"] + c["fn"] for c in scores.domains.values())
    print(f"{'micro':32} {p:6.3f} {r:6.3f} {f:6.3f} {support:8d}")
    print(f"{'macro F1':32} {'':6} {'':6} {statistics.mean(f1s):6.3f}")

    print(f"\n{'crisis type':32} {'prec':>6} {'rec':>6} {'support':>8}")
    for t, counter in scores.crisis.items():
        p, r, _ = prf(counter["tp"], counter["fp"], counter["fn"])
        print(f"{t:32} {p:6.3f} {r:6.3f} {counter['tp'] + counter['fn']:8d}")
    p, r, n = scores.crisis_all()
    print(f"{'all crisis types':32} {p:6.3f} {r:6.3f} {n:8d}")
    checked = scores.third["ok"] + scores.third["wrong"]
    print(f"third-party flag right: {scores.third['ok']}/{checked}")

    p, r, _ = prf(scores.urgent["tp"], scores.urgent["fp"], scores.urgent["fn"])
    print(
        f"\nurgent signal (eviction / cut-off): precision {p:.3f}, recall {r:.3f}, "
        f"support {scores.urgent['tp'] + scores.urgent['fn']}"
    )
    rate = scores.negated_fp / scores.negated_total if scores.negated_total else 0.0
    print(
        f"negation false-positive rate: {rate:.3f} ({scores.negated_fp}/{scores.negated_total} "
        f"denied domains still reported)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--errors", action="store_true", help="list every wrong utterance")
    args = parser.parse_args()

    from bot.life_domains import get_detector

    started = time.perf_counter()
    detector = get_detector()
    load_seconds = time.perf_counter() - started
    examples = load_examples(args.eval)
    codes = domain_codes(examples)
    detector.detect("warm-up")

    scores = evaluate(detector, examples, codes)
    print(
        f"life-domain detector on {args.eval.name}: {len(examples)} utterances "
        f"(patterns loaded in {load_seconds:.1f} s)\n"
    )
    print_report(scores, codes)
    lat = sorted(scores.latencies)
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    print(
        f"latency per utterance: mean {statistics.mean(lat):.2f} ms, "
        f"p50 {statistics.median(lat):.2f} ms, p95 {p95:.2f} ms, max {lat[-1]:.2f} ms"
    )

    splits = sorted({ex.get("split", "tuning") for ex in examples})
    if len(splits) > 1:
        print(
            f"\n{'split':10} {'n':>5} {'micro F1':>9} {'crisis P':>9} {'crisis R':>9} "
            f"{'neg FP':>7} {'errors':>7}"
        )
        for split in splits:
            part = [ex for ex in examples if ex.get("split", "tuning") == split]
            sc = evaluate(detector, part, codes)
            _, _, f = sc.micro()
            cp, cr, _ = sc.crisis_all()
            neg = sc.negated_fp / sc.negated_total if sc.negated_total else 0.0
            print(
                f"{split:10} {len(part):5d} {f:9.3f} {cp:9.3f} {cr:9.3f} {neg:7.3f} "
                f"{len(sc.errors):7d}"
            )
    print(f"\nutterances with any error: {len(scores.errors)}/{len(examples)}")
    if args.errors and scores.errors:
        print("\nerrors (+ reported but not expected, - expected but missed):")
        print("\n".join(scores.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
