"""``docs/assignment-toml.md``, written from the pydantic models of the course's files (:mod:`grader.spec`): their
docstrings and field descriptions, types, defaults and constraints, so that the page says what the code accepts.

``python -m grader.docs_command`` rewrites the page; ``--check`` exits 1 when it differs from what the models give
(``tests/test_docs.py`` fails then too). A model nested in another (``[rules]``, ``[[tasks]]``, ...) gets a section of
its own, found from the models' JSON schema, so a new table or field appears without a change here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from grader.scaffold import scaffold_files
from grader.spec import AssignmentSpec, CourseSpec

PAGE = Path(__file__).resolve().parent.parent / "docs" / "assignment-toml.md"
REGENERATE = "python -m grader.docs_command"
EXAMPLE = "example"
"""The name of the assignment whose ``grader new`` spec the page shows."""

INTRODUCTION = f"""\
# The course's files: `course.toml` and `assignment.toml`

> This page is generated from the models of `grader/spec.py`: edit their docstrings and field descriptions, then
> run `{REGENERATE}` (`tests/test_docs.py` fails while the page differs from what they give).

A course is a folder holding `assignments/` and, for the instructor, `reference/` (one solution module per
assignment, whose `### BEGIN SOLUTION` regions the starters cut). `assignments/course.toml` holds the course's
settings and each `assignments/<name>/assignment.toml` one assignment's. A course finds its assignments by their
`assignment.toml`: a folder that has one is an assignment of the course (`grader new NAME` writes one with everything
around it), and every `grader run` and `grader batch` of the course expects each of them from a student.

Both files are TOML. A table that refuses keys it does not list says so, and then a misspelt key is an error, not a
silent default; a file that does not fit is refused with every invalid field named, before anything is graded.
"""

CROSS_CHECKS = """\
Checked across the fields of `assignment.toml`:

- `name` is the name of the assignment's folder.
- `[tolerance]` has both `float32` and `float64`.
- Task ids are unique, and every function a task grades is one of `[functions]`.
- Every task that `[gradescope] task_visibility` names is one of `[[tasks]]`.
"""


def resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a ``$ref`` replaced by the model it names."""
    if "$ref" in schema:
        return dict(defs[schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field's schema without its ``null`` alternative."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return options[0] if len(options) == 1 else schema


class Place(BaseModel):
    """Where a field that holds models puts each of them in TOML."""

    keys: list[str]
    """The dotted keys of the tables, e.g. ``tolerance.float32`` and ``tolerance.float64``, or ``functions.<name>``."""
    array: bool
    """An array of tables: each opened by ``[[key]]``."""
    model: dict[str, Any]

    @property
    def headers(self) -> str:
        opening, closing = ("[[", "]]") if self.array else ("[", "]")
        return ", ".join(f"`{opening}{key}{closing}`" for key in self.keys)

    @property
    def prefix(self) -> str:
        """The dotted key of the tables nested in these."""
        return self.keys[0] if len(self.keys) == 1 else self.keys[0].rsplit(".", 1)[0] + ".<key>"


def place(key: str, schema: dict[str, Any]) -> Place | None:
    """Where the field ``key`` puts the models it holds; None for a field of plain values."""
    schema = without_null(schema)
    if "$ref" in schema:
        return Place(keys=[key], array=False, model=schema)
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return Place(keys=[key], array=True, model=schema["items"])
    if schema.get("type") == "object" and "$ref" in schema.get("additionalProperties", {}):
        names = schema.get("propertyNames", {}).get("enum") or ["<name>"]
        return Place(keys=[f"{key}.{name}" for name in names], array=False, model=schema["additionalProperties"])
    return None


SCALARS = {"string": "string", "number": "float", "integer": "integer", "boolean": "boolean"}


def plural(text: str) -> str | None:
    """A simple type's plural (``strings``, ``arrays of floats``); None for a type that has none."""
    head, _, rest = text.partition(" of ")
    if head not in {*SCALARS.values(), "table", "array"} or " or " in text:
        return None
    return f"{head}s of {rest}" if rest else f"{head}s"


def one_of(text: str) -> str:
    """A type as a noun phrase: ``a string or an array of strings``; values (quoted) as they are."""
    if text.startswith("`"):
        return text
    return " or ".join(f"{'an' if t[0] in 'aeiou' else 'a'} {t}" for t in text.split(" or "))


def collection(kind: str, entries: str) -> str:
    """An array's or a table's type, from the type of each of its entries."""
    many = plural(entries)
    if many:
        return f"{kind} of {many}"
    return f"{kind}, each {'entry' if kind == 'array' else 'value'} {one_of(entries)}"


def type_text(schema: dict[str, Any]) -> str:
    """A field's type, in TOML's words."""
    if "anyOf" in schema:
        return " or ".join(type_text(s) for s in schema["anyOf"] if s.get("type") != "null")
    if "$ref" in schema:
        return "table"
    if "enum" in schema:
        return " or ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return collection("array", type_text(schema.get("items", {})))
    if kind == "object":
        values = schema.get("additionalProperties")
        return collection("table", type_text(values)) if isinstance(values, dict) else "table"
    return SCALARS[str(kind)]


def constraints(schema: dict[str, Any]) -> list[str]:
    """What a field's value must be, beyond its type."""
    schema = without_null(schema)
    found = []
    if "pattern" in schema:
        found.append(f"matches `{schema['pattern']}`")
    if "exclusiveMinimum" in schema:
        found.append(f"greater than {schema['exclusiveMinimum']}")
    if "minimum" in schema:
        found.append(f"at least {schema['minimum']}")
    if "minItems" in schema:
        count = schema["minItems"]
        found.append(f"at least {count} {'entry' if count == 1 else 'entries'}")
    if "propertyNames" in schema and "enum" in schema["propertyNames"]:
        found.append("keys " + ", ".join(f"`{name}`" for name in schema["propertyNames"]["enum"]))
    return found


def default_text(field: str, schema: dict[str, Any], required: list[str]) -> str:
    if field in required:
        return "required"
    default = schema.get("default")
    if default is None:
        return "absent"
    if isinstance(default, dict):
        return "its fields' defaults"
    return f"`{json.dumps(default)}`"


def one_line(text: str) -> str:
    """A description or docstring as one line of Markdown (reStructuredText's double backticks made single)."""
    return " ".join(text.replace("``", "`").split())


def field_table(schema: dict[str, Any], prefix: str = "") -> str:
    """The table of a model's fields (key, type, default and what it is), and whether it refuses other keys."""
    required = schema.get("required", [])
    rows = ["| key | type | default | what it is |", "|---|---|---|---|"]
    for field, prop in schema["properties"].items():
        description = one_line(prop.get("description", ""))
        if not description:
            raise ValueError(f"{schema['title']}.{field} has no description; give its Field(description=...)")
        tables = place(prefix + field, prop)
        where = [f"see {tables.headers} below"] if tables else []
        what = "; ".join([description, *constraints(prop), *where]).replace("|", "\\|")
        rows.append(f"| `{field}` | {type_text(prop)} | {default_text(field, prop, required)} | {what} |")
    if schema.get("additionalProperties") is False:
        rows.append("\nAny other key is refused.")
    return "\n".join(rows)


def sections(schema: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> list[str]:
    """A section for each model nested in ``schema``, and for the models nested in those, depth first."""
    found = []
    for field, prop in schema["properties"].items():
        tables = place(prefix + field, prop)
        if tables is None:
            continue
        model = resolve(tables.model, defs)
        table = field_table(model, tables.prefix + ".")
        found.append(f"### {tables.headers}\n\n{one_line(model.get('description', ''))}\n\n{table}\n")
        found.extend(sections(model, defs, tables.prefix + "."))
    return found


def file_section(model: type[BaseModel], after: str = "") -> str:
    """A file's section: its model's docstring (the file's path) as the heading, then its fields and tables."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    body = [f"## {one_line(schema['description']).rstrip('.')}\n\n{field_table(schema)}\n"]
    return "\n".join(body + sections(schema, defs) + ([after] if after else []))


def page() -> str:
    """The text of ``docs/assignment-toml.md``."""
    example = scaffold_files(EXAMPLE, "An example")[f"assignments/{EXAMPLE}/assignment.toml"]
    example_section = (
        f"## An example\n\nThe `assignment.toml` that `grader new {EXAMPLE}` writes, with one function and one task:"
        f"\n\n```toml\n{example}```\n"
    )
    return "\n".join(
        [
            INTRODUCTION,
            file_section(CourseSpec),
            file_section(AssignmentSpec, CROSS_CHECKS),
            example_section,
        ]
    )


@click.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when the page differs from what the models give.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=PAGE, show_default=True)
def main(check: bool, output: Path) -> None:
    """Write docs/assignment-toml.md from the models of the course's files."""
    text = page()
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else ""
        if current != text:
            click.echo(f"{output}: out of date; regenerate it with `{REGENERATE}`", err=True)
            sys.exit(1)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")


if __name__ == "__main__":
    main()
