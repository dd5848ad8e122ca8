"""Where things live. One place, so every sub-command agrees."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_RASA = REPO / ".venv-rasa"
VENV_API = REPO / ".venv-api"
VENV_TOOLS = REPO / ".venv-tools"
REQUIREMENTS = REPO / "requirements"
VAR = REPO / "var"
MODELS = REPO / "models"
BOT = REPO / "bot"
DATA = REPO / "data"
TRAINING_DATA = [DATA / "nlu", DATA / "rules", DATA / "stories"]


def rasa_bin(name: str = "python") -> Path:
    """An executable inside the Rasa virtual environment."""
    return VENV_RASA / "bin" / name


def api_bin(name: str = "python") -> Path:
    """An executable inside the handover API's virtual environment."""
    return VENV_API / "bin" / name
