"""GitHub Actions' workflow commands and files: escaping as the runner decodes it, and appending to
``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from pathlib import Path

DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
PROPERTY = {**DATA, ":": "%3A", ",": "%2C"}


def escape(text: str, table: dict[str, str]) -> str:
    """``text`` with every character of ``table`` replaced by its escape, ``%`` first."""
    return "".join(table.get(char, char) for char in text)


def command(name: str, message: str, **properties: str | int) -> str:
    """A workflow command line, e.g. ``::error file=a.py,line=3,title=T::message``."""
    props = ",".join(f"{key}={escape(str(value), PROPERTY)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape(message, DATA)}"


def append(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` (the runner's files are shared by every step of the job)."""
    with path.open("a", encoding="utf-8") as file:
        file.write(text if text.endswith("\n") else text + "\n")


def set_outputs(path: Path, outputs: dict[str, str]) -> None:
    """Append single-line ``name=value`` step outputs to the ``$GITHUB_OUTPUT`` file ``path``."""
    for name, value in outputs.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"step output {name!r} must be one line")
    append(path, "".join(f"{name}={value}\n" for name, value in outputs.items()))
