"""The ``flashback-tui`` command line: the TUI by default, and subcommands.

Subcommands live in ``flashback_tui.commands.*`` and are imported only when invoked, so
``flashback-tui --help`` and starting the TUI stay fast. Nothing heavy is imported here.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

#: subcommand name -> "module:attribute" of its click command or group.
SUBCOMMANDS: dict[str, str] = {
    "serve": "flashback_tui.commands.serve:serve",
    "admin": "flashback_tui.commands.admin:admin",
    "login": "flashback_tui.commands.auth:login",
    "logout": "flashback_tui.commands.logout:logout",
    "auth": "flashback_tui.commands.auth_status:auth",
    "workspaces": "flashback_tui.commands.workspaces:workspaces",
    "llm": "flashback_tui.commands.llm:llm",
    "repo": "flashback_tui.commands.repo:repo",
    "key": "flashback_tui.commands.keys:key",
    "policy": "flashback_tui.commands.policy:policy",
    "violations": "flashback_tui.commands.policy_lists:violations",
    "alerts": "flashback_tui.commands.policy_lists:alerts",
    "member": "flashback_tui.commands.member:member",
    "events": "flashback_tui.commands.events:events",
    "demo": "flashback_tui.commands.demo:demo",
    "cache": "flashback_tui.commands.cache:cache",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._available():
            module_name, attr = SUBCOMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)

    @staticmethod
    def _available() -> dict[str, str]:
        """Subcommands whose module exists (some land in later releases)."""
        from importlib.util import find_spec

        return {
            name: target
            for name, target in SUBCOMMANDS.items()
            if find_spec(target.split(":")[0]) is not None
        }


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="FLASHBACK_DATA_DIR",
              help="Data directory of the embedded local platform.")
@click.option("--url", envvar="FLASHBACK_URL", help="Use a remote platform at this URL.")
@click.option("--profile", envvar="FLASHBACK_PROFILE", help="Settings profile to use.")
@click.option("--read-only", is_flag=True, help="Hide and refuse every write action.")
@click.option("--timeout", type=click.FloatRange(0.1, 600), envvar="FLASHBACK_TIMEOUT",
              metavar="SECONDS", help="Seconds to wait for the platform's answers (default 30).")
@click.option("--no-cache", is_flag=True, envvar="FLASHBACK_NO_CACHE",
              help="Neither keep nor show last-known lists.")
@click.version_option(package_name="flashback-tui")
@click.pass_context
def main(ctx: click.Context, **options: Any) -> None:
    """Manage Flashback AI LLM configurations. With no subcommand, open the TUI."""
    ctx.ensure_object(dict)
    ctx.obj.update(options)
    if ctx.invoked_subcommand is None:
        from flashback_tui.tui.launch import launch

        launch(**options)
