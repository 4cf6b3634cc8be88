"""The ``grader`` command line. Each command's module is imported only when that command runs, so that the
commands that never grade in this process (``grader batch``, ``grader gradebook``) start without importing torch."""

from __future__ import annotations

import importlib

import click

from grader import __version__

COMMANDS = {
    "run": "grader.run_command:run",
    "validate": "grader.validate_command:validate",
    "batch": "grader.batch.command:batch",
    "gradebook": "grader.batch.export:gradebook_command",
    "release": "grader.release.command:release",
    "ci": "grader.ci.command:ci",
    "new-seed": "grader.seed_command:new_seed",
}
"""Every command, by name: the module and the attribute that define it."""


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

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an exception no command expected is the grader's bug: exit 3 with its traceback (see
        :mod:`grader.exits`), never a bare crash."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:
            from grader.exits import internal_error

            internal_error(error)
            raise


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograding for the recurrent-neural-networks module."""
