"""Loading YAML data files into pydantic models with errors a config editor can act on:
the file name and the field path (`municipalities[3].services.wmo`), never a stack trace."""

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(ValueError):
    """A data file is invalid; ``file`` and ``field`` say where."""

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file = file
        self.field = field


def field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "__root__":
            path += f".{part}" if path else str(part)
    return path or "(file)"


def parse_file(path: Path, model: type[M], error: type[DataFileError]) -> M:
    """Reads `path` as YAML into `model`, raising `error(file, field, message)` on any fault."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(path.name, "(file)", f"invalid YAML: {exc}") from exc
    try:
        return model.parse_obj(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise error(path.name, field_path(first["loc"]), first["msg"]) from exc
