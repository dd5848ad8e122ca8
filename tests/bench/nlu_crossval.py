"""NLU benchmark: k-fold cross-validation of bot/config.yml against three other pipelines.

The others: bot/config-sparse-only.yml (our pipeline without the sentence encoder),
bot/config-logreg.yml (a candidate: a logistic regression for intents and a CRF for entities
instead of DIET) and
bot/config-rasa-default.yml (Rasa 3.6's default pipeline, what a `rasa init` bot trains with),
on the same data.

Runs Rasa's own cross-validation for each config, one after the other::

    rasa test nlu --cross-validation --folds K --config CONFIG --nlu data/nlu \
        --out OUT/<config name> --no-plot

and prints one row per config: intent accuracy, macro and weighted F1 of the intents
(accumulated over the test folds; `nlu_fallback` predictions count as errors), the
weighted F1 of every entity extractor that reported, and the wall time. The same figures go
to `--json` (var/bench/nlu.json) for tests/bench/summary.py.

There is no held-out, intent-labelled set in this repository or in the shared contract (its
intents.yml names intents with illustrations, not evaluation utterances; the held-out sets in
tests/bench label life domains and crises for the detector), so cross-validation is the one
comparison of pipelines here.

Usage (from anywhere; paths are relative to the repo root)::

    .venv-rasa/bin/python tests/bench/nlu_crossval.py [--folds 5] [--out var/bench/nlu]
        [--config bot/config.yml --config bot/config-sparse-only.yml] [--epochs N]
        [--json var/bench/nlu.json]

`--epochs N` overrides the epochs of DIETClassifier (and ResponseSelector) in temporary
copies of the configs
(written under OUT), e.g. to measure how training time and accuracy trade off.

This is a script, not a pytest test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
DEFAULT_CONFIGS = [
    "bot/config.yml",
    "bot/config-sparse-only.yml",
    "bot/config-logreg.yml",
    "bot/config-rasa-default.yml",
]
# Only these two must differ by the encoder alone; Rasa's default pipeline differs on purpose.
SAME_BUT_ENCODER = {"config.yml", "config-sparse-only.yml"}
LABELS = {
    "config.yml": "Voordeur (bot/config.yml)",
    "config-sparse-only.yml": "Voordeur without sentence encoder",
    "config-logreg.yml": "Candidate: logistic regression + CRF",
    "config-rasa-default.yml": "Rasa default pipeline",
}
DEFAULT_OUT = "var/bench/nlu"
DEFAULT_JSON = "var/bench/nlu.json"
DEFAULT_NLU = "data/nlu"
ENCODER_COMPONENT = "bot.components.sentence_encoder.UniversalSentenceEncoderFeaturizer"
NON_ENTITY_REPORTS = {"intent_report.json", "response_selection_report.json"}


@dataclass
class CrossvalResult:
    config: str
    seconds: float
    returncode: int
    label: str = ""
    accuracy: float | None = None
    macro_f1: float | None = None
    weighted_f1: float | None = None
    entity_f1: dict[str, float] = field(default_factory=dict)


def load_yaml(path: Path) -> dict:
    import yaml  # PyYAML ships with Rasa

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def pipeline_names(config: dict) -> list[str]:
    return [step.get("name", "") for step in config.get("pipeline") or []]


def warn_if_configs_drift(configs: list[Path]) -> None:
    """The sparse-only baseline must equal the full config minus the encoder featurizer."""
    configs = [c for c in configs if c.name in SAME_BUT_ENCODER]
    stripped = []
    for path in configs:
        steps = [
            s for s in load_yaml(path).get("pipeline") or [] if s.get("name") != ENCODER_COMPONENT
        ]
        stripped.append(steps)
    if any(steps != stripped[0] for steps in stripped[1:]):
        print(
            "WARNING: the pipelines differ by more than the sentence-encoder featurizer:"
            f" {', '.join(str(p) for p in configs)}",
            file=sys.stderr,
        )


def with_epochs(config: Path, epochs: int, out: Path) -> Path:
    """A copy of `config` (under `out`) with DIETClassifier (and ResponseSelector) epochs
    set to `epochs`."""
    import yaml

    data = load_yaml(config)
    for step in data.get("pipeline") or []:
        if step.get("name") in ("DIETClassifier", "ResponseSelector"):
            step["epochs"] = epochs
    data.pop("policies", None)
    out.mkdir(parents=True, exist_ok=True)
    copy = out / f"{config.stem}-epochs{epochs}.yml"
    copy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return copy


def read_reports(result: CrossvalResult, report_dir: Path) -> None:
    intent_report = report_dir / "intent_report.json"
    if intent_report.is_file():
        report = json.loads(intent_report.read_text(encoding="utf-8"))
        result.accuracy = report.get("accuracy")
        result.macro_f1 = (report.get("macro avg") or {}).get("f1-score")
        result.weighted_f1 = (report.get("weighted avg") or {}).get("f1-score")
    for path in sorted(report_dir.glob("*_report.json")):
        if path.name in NON_ENTITY_REPORTS:
            continue
        report = json.loads(path.read_text(encoding="utf-8"))
        weighted = (report.get("weighted avg") or {}).get("f1-score")
        if weighted is not None:
            result.entity_f1[path.name.removesuffix("_report.json")] = weighted


def run_crossval(config: Path, nlu: Path, folds: int, out: Path) -> CrossvalResult:
    """Runs `rasa test nlu --cross-validation` for one config; reads its reports."""
    report_dir = out / config.stem
    report_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(RASA), "test", "nlu", "--cross-validation",
        "--folds", str(folds),
        "--config", str(config),
        "--nlu", str(nlu),
        "--out", str(report_dir),
        "--no-plot",
    ]  # fmt: skip
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        # keep Rasa's training cache out of the repo and away from other runs
        "RASA_CACHE_DIRECTORY": str(out / ".rasa-cache"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }
    print(f"$ {' '.join(command)}", flush=True)
    log = report_dir / "rasa.log"
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as log_file:
        proc = subprocess.run(command, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    result = CrossvalResult(str(config), time.monotonic() - started, proc.returncode)
    if proc.returncode != 0:
        print(f"  rasa exited {proc.returncode}; see {log}", file=sys.stderr, flush=True)
    read_reports(result, report_dir)
    return result


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(results: list[CrossvalResult]) -> str:
    header = ["config", "intent acc", "macro F1", "weighted F1", "entity F1", "wall time"]
    rows = [header]
    for r in results:
        entities = ", ".join(f"{k} {v:.3f}" for k, v in r.entity_f1.items()) or "-"
        rows.append(
            [
                r.config + ("" if r.returncode == 0 else " (FAILED)"),
                fmt(r.accuracy),
                fmt(r.macro_f1),
                fmt(r.weighted_f1),
                entities,
                f"{r.seconds:.0f} s",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe_data(nlu: Path) -> str:
    from rasa.shared.importers.importer import TrainingDataImporter

    data = TrainingDataImporter.load_from_dict(training_data_paths=[str(nlu)]).get_nlu_data()
    counts = data.number_of_examples_per_intent
    if not counts:
        return f"{nlu}: no intent examples"
    return (
        f"{nlu}: {len(data.intent_examples)} examples, {len(counts)} intents "
        f"({min(counts.values())}-{max(counts.values())} per intent), "
        f"{len(data.entity_examples)} examples with entities"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"report directory ({DEFAULT_OUT})")
    parser.add_argument("--nlu", default=DEFAULT_NLU, help=f"NLU data ({DEFAULT_NLU})")
    parser.add_argument(
        "--config",
        action="append",
        help=f"config to evaluate; repeatable (default: {' and '.join(DEFAULT_CONFIGS)})",
    )
    parser.add_argument("--epochs", type=int, help="override DIETClassifier epochs")
    parser.add_argument("--json", default=DEFAULT_JSON, help=f"figures as JSON ({DEFAULT_JSON})")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = (REPO / args.out).resolve()
    nlu = (REPO / args.nlu).resolve()
    configs = [(REPO / c).resolve() for c in (args.config or DEFAULT_CONFIGS)]
    missing = [str(c) for c in configs if not c.is_file()]
    if missing:
        print(f"config not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not RASA.is_file():
        print(f"rasa not found at {RASA}; run ./voordeur setup", file=sys.stderr)
        return 2

    warn_if_configs_drift(configs)
    data = describe_data(nlu)
    print(data, flush=True)
    run = [with_epochs(c, args.epochs, out / "configs") if args.epochs else c for c in configs]

    results = []
    for original, config in zip(configs, run, strict=True):
        result = run_crossval(config, nlu, args.folds, out)
        result.config = (
            os.path.relpath(original, REPO) if original.is_relative_to(REPO) else str(original)
        )
        result.label = LABELS.get(original.name, original.stem)
        results.append(result)
    epochs = f", DIET epochs {args.epochs}" if args.epochs else ""
    print(f"\nNLU cross-validation, {args.folds} folds{epochs} (reports in {out})")
    print(format_table(results))
    report = to_json(results, folds=args.folds, epochs=args.epochs, data=data)
    path = REPO / args.json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"Written: {path}")
    return 0 if all(r.returncode == 0 and r.accuracy is not None for r in results) else 1


def to_json(
    results: list[CrossvalResult], *, folds: int, epochs: int | None, data: str
) -> dict[str, Any]:
    """The figures tests/bench/summary.py reads (var/bench/nlu.json)."""
    return {
        "folds": folds,
        "epochs_override": epochs,
        "data": data,
        "machine": {"cpus": os.cpu_count()},
        "held_out": None,
        "held_out_note": "no held-out intent-labelled set exists in the repository or contract",
        "pipelines": [
            {
                "config": r.config,
                "label": r.label or r.config,
                "ok": r.returncode == 0 and r.accuracy is not None,
                "accuracy": r.accuracy,
                "macro_f1": r.macro_f1,
                "weighted_f1": r.weighted_f1,
                "entity_f1": r.entity_f1,
                "seconds": round(r.seconds, 1),
            }
            for r in results
        ],
    }


if __name__ == "__main__":
    sys.exit(main())
