"""The benchmark summary (tests/bench/summary.py) and its SVG writer (tests/bench/chart.py):
pure functions from the benches' JSON to the table and the chart. A figure that was not
measured is shown as "not measured", never made up."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.bench import summary
from tests.bench.chart import NOT_MEASURED, Bar, Panel, number, render

TURNS = {
    "closed_loop": {
        "voordeur": [{"turns_per_s": 15.7}, {"turns_per_s": 17.9}],
        "rasa_init": [{"turns_per_s": 27.0}, {"turns_per_s": 28.4}],
    },
    "ratio": 0.63,
    "open_load": [
        {"offered_msg_per_s": 5.0, "p50_ms": 61.2, "p95_ms": 140.4, "p99_ms": 201.9, "errors": 0},
        {
            "offered_msg_per_s": 15.0,
            "p50_ms": 95.1,
            "p95_ms": 1812.0,
            "p99_ms": 2450.5,
            "errors": 0,
        },
    ],
    "twilio": {"p99_ms": 433.3, "offered_msg_per_s": 10.0, "errors": 0},
}
API = {
    "databases": {
        "sqlite": {
            "seeded_handovers": 100000,
            "create": {"per_s": 87.4},
            "list": {"p95_ms": 41.7},
            "inbox": {"p95_ms": 63.2},
        },
        "postgresql": {
            "seeded_handovers": 100000,
            "create": {"per_s": 612.5},
            "list": {"p95_ms": 23.4},
            "inbox": {"p95_ms": 31.8},
        },
    }
}
NLU = {
    "folds": 3,
    "pipelines": [
        {"label": "Voordeur (bot/config.yml)", "accuracy": 0.695, "macro_f1": 0.68},
        {"label": "Rasa default pipeline", "accuracy": 0.612, "macro_f1": 0.587},
    ],
    "held_out": None,
}
MEMORY = {"services": {"rasa": {"peak_rss_mb": 1650.4}, "handover-api": {"peak_rss_mb": 121.3}}}
TRAINING = {"seconds": 402.3, "peak_rss_mb": 3100.0, "returncode": 0}
FIRST_ANSWER = {"seconds_to_first_answer": 287.4, "phases_s": {"environments": 41.0}}


def everything() -> dict:
    return {
        "turns": TURNS,
        "scale": None,
        "api": API,
        "nlu": NLU,
        "memory": MEMORY,
        "training": TRAINING,
        "first_answer": FIRST_ANSWER,
    }


def svg_text(svg: str) -> str:
    """All text of the SVG (it must be well-formed XML)."""
    return " ".join(ET.fromstring(svg.split("\n", 1)[1]).itertext())


def test_number_formats_figures_by_size() -> None:
    assert [number(v) for v in (0, 0.695, 7.333, 17.94, 402.3, 3100.0)] == [
        "0",
        "0.695",
        "7.33",
        "17.9",
        "402",
        "3,100",
    ]


def test_chart_writes_every_figure_as_text_and_marks_targets() -> None:
    svg = render(
        "Bench",
        [
            Panel("Turns", [Bar("Voordeur", 17.9), Bar("rasa init", 28.4)], unit=" turns/s"),
            Panel(
                "Creates",
                [Bar("SQLite", 87.4, target=300, target_text="target > 300/s", met=False)],
            ),
        ],
    )
    text = svg_text(svg)
    assert "17.9 turns/s" in text and "28.4 turns/s" in text
    assert "87.4  (target > 300/s: missed)" in text
    assert svg.count("<rect") == 4  # background + three bars
    assert 'stroke-dasharray="3,2"' in svg  # the target mark


def test_chart_shows_a_missing_figure_as_not_measured_and_escapes_labels() -> None:
    svg = render("B & <c>", [Panel("Memory", [Bar("rasa <server>", None)], unit=" MB")])
    text = svg_text(svg)
    assert NOT_MEASURED in text
    assert "rasa <server>" in text and "B & <c>" in text
    assert svg.count("<rect") == 1  # only the background: no bar for a missing figure


def test_collect_reads_each_bench() -> None:
    s = summary.collect(everything())
    closed = s["turns"]["closed_loop"]
    assert closed["voordeur_turns_per_s"] == 17.9  # the best round
    assert closed["rasa_init_turns_per_s"] == 28.4
    assert closed["ratio"] == 0.63 and closed["met"] is False
    assert s["turns"]["twilio"]["met"] is True
    assert s["api"]["sqlite"]["creates_met"] is False
    assert s["api"]["postgresql"]["creates_met"] is True
    assert s["api"]["sqlite"]["list_met"] is True and s["api"]["sqlite"]["inbox_met"] is False
    assert [p["accuracy"] for p in s["nlu"]["pipelines"]] == [0.695, 0.612]
    assert s["resources"]["peak_rss_mb"]["rasa"] == 1650.4
    assert s["resources"]["training_seconds"] == 402.3
    assert s["resources"]["first_answer_s"] == 287.4


def test_the_first_answer_is_judged_against_five_minutes() -> None:
    rows = {
        what: (figure, met) for what, figure, _t, met in summary.rows(summary.collect(everything()))
    }
    assert rows["first answer after ./voordeur run"] == ("287 s", "met")
    late = {**everything(), "first_answer": {"seconds_to_first_answer": 301.0}}
    rows = {what: met for what, _f, _t, met in summary.rows(summary.collect(late))}
    assert rows["first answer after ./voordeur run"] == "MISSED"


def test_table_and_chart_carry_the_numbers() -> None:
    s = summary.collect(everything())
    table = summary.table(s)
    for figure in ("17.9 turns/s", "28.4 turns/s", "87.4/s", "612/s", "41.7 ms", "0.695"):
        assert figure in table
    assert "MISSED" in table
    text = svg_text(render("t", summary.panels(s)))
    for figure in ("17.9 turns/s", "28.4 turns/s", "140 ms", "1,812 ms", "433 ms", "87.4/s"):
        assert figure in text
    assert "0.695" in text and "0.587" in text and "1,650 MB" in text and "402 s" in text


def test_missing_inputs_are_not_measured_never_invented() -> None:
    s = summary.collect(dict.fromkeys(summary.SOURCES))
    assert s["turns"]["closed_loop"]["ratio"] is None
    assert s["api"]["sqlite"]["creates_per_s"] is None
    assert s["api"]["sqlite"]["creates_met"] is None
    rows = summary.rows(s)
    figures = {what: figure for what, figure, _target, _met in rows}
    assert figures["closed loop, Voordeur"] == NOT_MEASURED
    assert figures["API creates, SQLite"] == NOT_MEASURED
    assert figures["NLU cross-validation"] == NOT_MEASURED
    assert figures["rasa train time"] == NOT_MEASURED
    assert figures["first answer after ./voordeur run"] == NOT_MEASURED
    assert figures["peak RSS under load, rasa"] == NOT_MEASURED
    assert all(met == "" for _w, _f, _t, met in rows)  # no verdict without a figure
    svg = render("t", summary.panels(s))
    assert svg_text(svg).count(NOT_MEASURED) >= 10
    assert svg.count("<rect") == 1  # the background only: not one bar drawn


def test_a_partial_or_broken_input_leaves_the_rest_measured(tmp_path: Path) -> None:
    (tmp_path / "turns.json").write_text(json.dumps({"closed_loop": {"voordeur": []}}))
    (tmp_path / "api.json").write_text("{not json")
    (tmp_path / "nlu.json").write_text(json.dumps(NLU))
    s = summary.write(tmp_path)
    assert s["sources"]["nlu"] == "nlu.json" and s["sources"]["api"] is None
    assert s["turns"]["closed_loop"]["voordeur_turns_per_s"] is None
    assert s["nlu"]["pipelines"][1]["macro_f1"] == 0.587
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["api"]["postgresql"]["creates_per_s"] is None
    svg = (tmp_path / "summary.svg").read_text()
    assert "0.612" in svg_text(svg) and NOT_MEASURED in svg_text(svg)
