"""CLI command registry: each module adds its own click group or command."""
from __future__ import annotations

import importlib

from flask import Flask

COMMAND_MODULES = (
    "schedules.cli",
    "grants.demo",
    "grants.tokens_cli",
    "reporting.cli",
)


def register_commands(app: Flask) -> None:
    for path in COMMAND_MODULES:
        module = importlib.import_module(path)
        for command in module.COMMANDS:
            app.cli.add_command(command)
