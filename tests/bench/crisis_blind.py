"""Crisis recall/precision of the whole trained NLU on tests/bench/crisis_blind_lead.yml.

A benchmark, not a test: it prints figures. Needs a trained model in models/.
    .venv-rasa/bin/python tests/bench/crisis_blind.py [--model PATH]
"""

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


async def evaluate(model: str) -> None:
    from rasa.core.agent import Agent

    data = yaml.safe_load((REPO / "tests" / "bench" / "crisis_blind_lead.yml").read_text())
    agent = Agent.load(model)
    hits = total = false_alarms = 0
    for crisis_type, texts in data["crisis"].items():
        found = 0
        for text in texts:
            parsed = await agent.parse_message(text)
            if parsed["intent"]["name"] == "crisis":
                found += 1
            else:
                print(f"  missed ({crisis_type}): {text!r} -> {parsed['intent']['name']}")
        print(f"{crisis_type:<20} recall {found}/{len(texts)}")
        hits, total = hits + found, total + len(texts)
    for text in data["no_crisis"]:
        parsed = await agent.parse_message(text)
        if parsed["intent"]["name"] == "crisis":
            false_alarms += 1
            print(f"  false alarm: {text!r}")
    print(
        f"crisis recall {hits}/{total} = {hits / total:.2f}; "
        f"false alarms {false_alarms}/{len(data['no_crisis'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    models = sorted((REPO / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    asyncio.run(evaluate(args.model or str(models[-1])))


if __name__ == "__main__":
    main()
