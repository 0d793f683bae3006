"""Build the command tree in the chosen language, each command's module imported when needed.

The top-level group is click's documented "lazy group" pattern: the names and one-line
summaries come from :data:`harness.cli.commands.COMMANDS`, and a command's module is imported
only when click resolves that command. ``kkik --version`` or ``kkik calendar check`` so never
import matplotlib, openpyxl, FastAPI, the Twilio SDK or aiohttp (issue 16, item 8).
"""

from __future__ import annotations

import importlib

import click

from harness import __version__
from harness.cli import click_sv
from harness.cli.commands import COMMANDS
from harness.cli.common import CliContext, config_path_from_env
from harness.core.i18n import Lang, Text

HELP = Text(
    "kkik-harness mäter kommunens tillgänglighet via e-post och telefon enligt KKiK:s mått.",
    "kkik-harness measures a municipality's accessibility by e-mail and phone, the KKiK way.",
)
LANG_HELP = Text("Språk: sv (standard) eller en.", "Language: sv (default) or en.")
CONFIG_HELP = Text(
    "Konfigurationsfil (standard: $KKIK_CONFIG eller config.toml).",
    "Configuration file (default: $KKIK_CONFIG or config.toml).",
)


class LazyGroup(click.Group):
    """A group whose commands are built from their modules on first use."""

    def __init__(self, *args: object, lang: Lang, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lang = lang

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 (click's signature)
        return sorted(COMMANDS)

    def get_command(
        self,
        ctx: click.Context,  # noqa: ARG002 (click's signature)
        cmd_name: str,
    ) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if cmd_name not in self.commands:
            module = importlib.import_module(f"harness.cli.{entry.module}")
            built = module.build(self.lang)
            # run_cmd builds several commands at once; keep them all for the next lookup.
            for command in built if isinstance(built, list) else [built]:
                self.add_command(command)
        return self.commands.get(cmd_name)

    def format_commands(
        self,
        ctx: click.Context,  # noqa: ARG002 (click's signature)
        formatter: click.HelpFormatter,
    ) -> None:
        """The command list from the summaries: ``kkik --help`` imports no command module."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            # A throwaway Command cuts the summary exactly as click cuts any short help.
            (name, click.Command(name, help=entry.summary(self.lang)).get_short_help_str(limit))
            for name, entry in sorted(COMMANDS.items())
        ]
        with formatter.section(click_sv.word("Commands", self.lang == "sv")):
            formatter.write_dl(rows)


def build_app(lang: Lang) -> click.Group:
    @click.group(
        cls=LazyGroup,
        lang=lang,
        help=HELP(lang),
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @click.version_option(__version__, "--version", prog_name="kkik")
    @click.option("--lang", type=click.Choice(["sv", "en"]), help=LANG_HELP(lang))
    @click.option("-c", "--config", "config_path", metavar="PATH", help=CONFIG_HELP(lang))
    @click.pass_context
    def app(ctx: click.Context, lang: str | None, config_path: str | None) -> None:
        # The language was already settled from argv before the tree was built.
        del lang
        obj = ctx.ensure_object(CliContext)
        obj.config_path = config_path or config_path_from_env()

    return app
