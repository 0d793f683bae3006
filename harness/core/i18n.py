"""What users see, in Swedish by default and in English on request.

Messages live next to the code that emits them as :class:`Text` pairs, so a reader sees both
languages where the message is used. The language is chosen once per process (``--lang``, then
``KKIK_LANG``, then the config file's ``language``, then Swedish) and passed down explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

Lang = Literal["sv", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "sv"
LANG_ENV = "KKIK_LANG"


@dataclass(frozen=True, slots=True)
class Text:
    """One user-facing message in both languages; ``{name}`` fields are filled by ``format``.

    A field that is itself a :class:`Text` (a label for a code, say) is rendered in the same
    language, so a message can carry a label without its caller knowing the language.
    """

    sv: str
    en: str

    def __call__(self, lang: Lang, /, **fields: object) -> str:
        template = self.sv if lang == "sv" else self.en
        if not fields:
            return template
        shown = {name: v(lang) if isinstance(v, Text) else v for name, v in fields.items()}
        return template.format(**shown)


def parse_lang(value: str | None) -> Lang | None:
    """Return ``value`` as a language code, or None when it names no supported language."""
    if value is None:
        return None
    code = value.strip().lower().split("_")[0].split("-")[0]
    for lang in LANGS:
        if code == lang:
            return lang
    return None


def lang_from_env(environ: Mapping[str, str] | None = None) -> Lang | None:
    env = os.environ if environ is None else environ
    return parse_lang(env.get(LANG_ENV))
