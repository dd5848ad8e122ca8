"""Crisis recall/precision of the whole trained NLU on tests/bench/crisis_blind_lead.yml.

A benchmark, not a test: it prints figures. Needs a trained model in models/.
    .venv-rasa/bin/python tests/bench/crisis_blind.py [--model PATH] [--similarity]

``--similarity`` runs the set twice with the same model: once as trained (rules + the crisis
similarity net of LifeDomainExtractor) and once with the net switched off in the loaded
component, and prints both figures. (tests/bench/crisis_similarity.py measures the net without a
trained model, also on tests/bench/life_domains_eval.yml.)
"""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def life_domain_extractors(agent: Any) -> list[Any]:
    """The LifeDomainExtractor instances in the agent's loaded NLU graph."""
    from bot.components.life_domains import LifeDomainExtractor

    nodes = getattr(agent.processor.graph_runner, "_instantiated_nodes", {})  # Rasa 3.6 Dask
    found = [getattr(node, "_component", None) for node in nodes.values()]
    return [c for c in found if isinstance(c, LifeDomainExtractor)]


async def evaluate(agent: Any, label: str) -> tuple[int, int, int, int]:
    data = yaml.safe_load((REPO / "tests" / "bench" / "crisis_blind_lead.yml").read_text())
    print(f"--- {label}")
    hits = total = false_alarms = 0
    for crisis_type, texts in data["crisis"].items():
        found = 0
        for text in texts:
            parsed = await agent.parse_message(text)
            if parsed["intent"]["name"] == "crisis":
                found += 1
                net = [e for e in parsed["entities"] if e.get("source") == "similarity"]
                if net:
                    print(f"  by the similarity net ({crisis_type}): {text!r}")
            else:
                print(f"  missed ({crisis_type}): {text!r} -> {parsed['intent']['name']}")
        print(f"{crisis_type:<20} recall {found}/{len(texts)}")
        hits, total = hits + found, total + len(texts)
    for text in data["no_crisis"]:
        parsed = await agent.parse_message(text)
        if parsed["intent"]["name"] == "crisis":
            false_alarms += 1
            print(f"  false alarm: {text!r}")
    precision = hits / (hits + false_alarms) if hits + false_alarms else 1.0
    print(
        f"crisis recall {hits}/{total} = {hits / total:.2f}; precision {precision:.2f}; "
        f"false alarms {false_alarms}/{len(data['no_crisis'])}"
    )
    return hits, total, false_alarms, len(data["no_crisis"])


async def run(model: str, similarity: bool) -> None:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per parsed message
    agent = Agent.load(model)
    if not similarity:
        await evaluate(agent, "whole NLU")
        return
    extractors = life_domain_extractors(agent)
    if not extractors or not all(e.index is not None for e in extractors):
        print("the model has no LifeDomainExtractor with a working similarity net")
        await evaluate(agent, "whole NLU")
        return
    with_net = await evaluate(agent, "whole NLU, rules + similarity net")
    for extractor in extractors:
        extractor.similarity = False
    without = await evaluate(agent, "whole NLU, similarity net switched off")
    print("\n              recall      false alarms")
    for name, (hits, total, fa, neg) in (("with net", with_net), ("without net", without)):
        print(f"{name:<12} {hits:3d}/{total:<3d} {hits / total:.2f}   {fa}/{neg}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument(
        "--similarity", action="store_true", help="figures with and without the similarity net"
    )
    args = parser.parse_args()
    models = sorted((REPO / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    asyncio.run(run(args.model or str(models[-1]), args.similarity))


if __name__ == "__main__":
    main()
