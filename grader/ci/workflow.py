"""GitHub Actions' workflow commands and files: escaping as the runner decodes it, and appending to
``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``. Everything written is safe text (:func:`grader.escape.safe_text`):
a lone surrogate would make the write fail."""

from __future__ import annotations

from pathlib import Path

from grader.escape import safe_text

DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
PROPERTY = {**DATA, ":": "%3A", ",": "%2C"}


def escape(text: str, table: dict[str, str]) -> str:
    """``text`` with every character of ``table`` replaced by its escape, ``%`` first."""
    return "".join(table.get(char, char) for char in text)


def command(name: str, message: str, **properties: str | int) -> str:
    """A workflow command line, e.g. ``::error file=a.py,line=3,title=T::message``, its values as safe text."""
    props = ",".join(f"{key}={escape(safe_text(str(value)), PROPERTY)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape(safe_text(message), DATA)}"


def append(path: Path, text: str) -> None:
    """Append ``text`` as safe text to ``path`` (the runner's files are shared by every step of the job)."""
    text = safe_text(text)
    with path.open("a", encoding="utf-8") as file:
        file.write(text if text.endswith("\n") else text + "\n")


def set_outputs(path: Path, outputs: dict[str, str]) -> None:
    """Append single-line ``name=value`` step outputs, as safe text, to the ``$GITHUB_OUTPUT`` file ``path``."""
    safe = {name: safe_text(value) for name, value in outputs.items()}
    for name, value in safe.items():
        if "\n" in value:  # safe text breaks lines at \n only
            raise ValueError(f"step output {name!r} must be one line")
    append(path, "".join(f"{name}={value}\n" for name, value in safe.items()))
