"""A terminal chat against the running Rasa server's REST channel (stdlib only).

`rasa shell` would load a second copy of the model; this talks to the one `voordeur run`
started, so the handover really reaches the local handover API.
"""

import argparse
import json
import urllib.request
import uuid


def send(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text, "metadata": {"channel": "shell"}})
    req = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print("Typ uw bericht (Ctrl+D om te stoppen).")
    while True:
        try:
            text = input("U: ").strip()
        except EOFError:
            break
        if not text:
            continue
        for msg in send(args.url, sender, text):
            if "text" in msg:
                print("Voordeur:", msg["text"])
            for i, button in enumerate(msg.get("buttons", []), start=1):
                print(f"  {i}. {button['title']}")


if __name__ == "__main__":
    main()
