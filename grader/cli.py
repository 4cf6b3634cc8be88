"""The ``grader`` command line. Each command's module is imported only when that command runs, and the listing
(``grader --help``) reads each command's summary from its module's source: help imports no command it does not show,
and no command's module imports torch before it grades, so help is quick and the commands that never grade in this
process (``grader batch``, ``grader gradebook``) start without it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import click

from grader import __version__, exits

COMMANDS = {
    "run": "grader.run_command:run",
    "validate": "grader.validate_command:validate",
    "batch": "grader.batch.command:batch",
    "gradebook": "grader.batch.export:gradebook_command",
    "release": "grader.release.command:release",
    "ci": "grader.ci.command:ci",
    "new-seed": "grader.seed_command:new_seed",
    "new": "grader.scaffold:new",
    "calibrate": "grader.calibrate:calibrate",
}
"""Every command, by name: the module and the attribute that define it."""

INSTRUCTOR_MODULES = frozenset({"nbgrader", "matplotlib", "distributed"})
"""What the instructor's extra brings (``grader[instructor]`` in pyproject.toml), as a command imports it."""


def docstring(name: str) -> str:
    """The docstring of command ``name``'s function, read from its module's source without importing the module."""
    module, attribute = COMMANDS[name].split(":")
    spec = importlib.util.find_spec(module)
    source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == attribute:
            return ast.get_docstring(node, clean=False) or ""
    return ""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their summaries, as click would, from their docstrings: no command is imported."""
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        rows = [(name, click.Command(name, help=docstring(name)).get_short_help_str(limit)) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an exception no command expected is the grader's bug: exit 3 with its traceback (see
        :mod:`grader.exits`), never a bare crash."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except ModuleNotFoundError as error:
            if (error.name or "").partition(".")[0] not in INSTRUCTOR_MODULES:
                exits.internal_error(error)
            exits.fail(
                f"grader {ctx.invoked_subcommand} needs {error.name}, one of the instructor's tools, which this "
                "install lacks: pip install 'grader[instructor]'"
            )
        except Exception as error:
            exits.internal_error(error)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograding for the recurrent-neural-networks module."""
