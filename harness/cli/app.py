"""Build the command tree in the chosen language."""

from __future__ import annotations

import click

from harness import __version__
from harness.cli import (
    calendar_cmd,
    call_cmd,
    config_cmd,
    db_cmd,
    demo_cmd,
    doctor_cmd,
    export_cmd,
    mail_cmd,
    measure_cmd,
    plan_cmd,
    purge_cmd,
    reference_cmd,
    report_cmd,
    resolve_cmd,
    run_cmd,
    score_cmd,
    serve_cmd,
    user_cmd,
)
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


def build_app(lang: Lang) -> click.Group:
    @click.group(help=HELP(lang), context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, "--version", prog_name="kkik")
    @click.option("--lang", type=click.Choice(["sv", "en"]), help=LANG_HELP(lang))
    @click.option("-c", "--config", "config_path", metavar="PATH", help=CONFIG_HELP(lang))
    @click.pass_context
    def app(ctx: click.Context, lang: str | None, config_path: str | None) -> None:
        # The language was already settled from argv before the tree was built.
        del lang
        obj = ctx.ensure_object(CliContext)
        obj.config_path = config_path or config_path_from_env()

    app.add_command(config_cmd.build(lang))
    app.add_command(calendar_cmd.build(lang))
    app.add_command(db_cmd.build(lang))
    app.add_command(mail_cmd.build(lang))
    app.add_command(plan_cmd.build(lang))
    app.add_command(doctor_cmd.build(lang))
    app.add_command(score_cmd.build(lang))
    app.add_command(export_cmd.build(lang))
    app.add_command(reference_cmd.build(lang))
    app.add_command(call_cmd.build(lang))
    app.add_command(measure_cmd.build(lang))
    app.add_command(report_cmd.build(lang))
    app.add_command(demo_cmd.build(lang))
    app.add_command(user_cmd.build(lang))
    app.add_command(serve_cmd.build(lang))
    app.add_command(purge_cmd.build(lang))
    app.add_command(resolve_cmd.build(lang))
    for command in run_cmd.build(lang):
        app.add_command(command)
    return app
