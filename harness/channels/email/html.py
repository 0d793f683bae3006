"""Received mail HTML made safe to show: capped, rewritten as plain balanced markup, then nh3.

The sanitiser (nh3, built on html5ever) is quadratic in the nesting depth of what it parses: a 300
KB reply of nested ``<div>`` took seconds of CPU per view, 1 MB took minutes, and so did 20,000
``<b>`` tags with different attributes (each is compared with the others). So mail HTML is cleaned
once, when the mail is stored (:mod:`harness.channels.email.store`), and the clean copy is what the
probe page shows; and before nh3 sees anything the input is capped:

* more than :data:`MAX_HTML_CHARS` characters, or more than :data:`MAX_TAGS` tags (every ``<``
  counts, comments included): refused;
* the document is read by a small linear tokenizer (below) that keeps only the tags nh3 would
  keep, with only the attributes nh3 would keep, and writes them out again *balanced*: every
  element is closed, in order, and text never contains ``<``. More than :data:`MAX_DEPTH`
  elements open at once: refused.

Rewriting, rather than only counting, is what makes the depth cap hold. html5ever ignores many
end tags (``</span>`` while a ``<div>`` opened inside the span is still open, ``</b>`` in a
different table cell, …): a counter that trusts end tags can be walked down to zero while the
parser's stack of open elements grows without limit (``<span><div></span></div>`` repeated).
Written out balanced, every end tag nh3 sees closes the element just opened, so the depth nh3
works at is the depth counted here. The tokenizer needs to be right only for ordinary mail to
look the same; whatever it gets wrong, nh3 still parses its output and removes anything active.

A refused document is not shown as HTML: the page shows the mail's text part and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import nh3

MAX_HTML_CHARS = 500_000
MAX_TAGS = 20_000
MAX_DEPTH = 100

Refusal = Literal["size", "tags", "depth"]

CLEAN_TAGS = frozenset({"a", "b", "blockquote", "br", "div", "em", "i", "li", "ol", "p", "pre",
                        "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
                        "h1", "h2", "h3", "h4", "hr"})  # fmt: skip
CLEAN_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_VOID = frozenset({"br", "hr"})
# Raw-text elements: their content is not markup. Script and style content is dropped (nh3
# drops it too); the others' content is kept as text.
_DROPPED_CONTENT = frozenset({"script", "style"})
_RAW_TEXT = frozenset({"textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"})

# One tag, start or end, as the HTML tokenizer reads it: a name, then attributes whose values
# may be quoted (a quoted ">" does not end the tag). Possessive quantifiers only: the pattern
# never backtracks, so a tag is matched in time linear in its length, and it fails only when no
# ">" follows at all (the tokenizer then reads the rest of the document as part of the tag).
_WS = "\t\n\f\r "
_TAG = re.compile(
    rf"<(/?)([A-Za-z][^{_WS}/>]*+)"
    rf"((?:[{_WS}/]++|[^{_WS}/>][^{_WS}/>=]*+"
    rf"(?:[{_WS}]*+=[{_WS}]*+(?:\"[^\"]*+\"|'[^']*+'|[^{_WS}>]++))?+)*+)>"
)
_ATTRIBUTE = re.compile(
    rf"([^{_WS}/>][^{_WS}/>=]*+)(?:[{_WS}]*+=[{_WS}]*+(\"[^\"]*+\"|'[^']*+'|[^{_WS}>]++))?+"
)
_TAG_OPEN = re.compile(r"</?[A-Za-z]")
_COMMENT_END = re.compile(r"--!?>")


@dataclass(frozen=True)
class CleanHtml:
    """The mail's HTML safe to show (``html``), or why it is not shown (``refused``)."""

    html: str | None
    refused: Refusal | None = None


def sanitise(html: str) -> str:
    """nh3 with our allowlist: text structure and http(s)/mailto links, nothing active.

    Call it only on output of :func:`normalise` (or other input known to be small and shallow).
    """
    return nh3.clean(
        html,
        tags=set(CLEAN_TAGS),
        attributes=CLEAN_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def clean_mail_html(html: str) -> CleanHtml:
    """Mail HTML to show, cleaned under the caps; a refusal says which cap it hit."""
    if len(html) > MAX_HTML_CHARS:
        return CleanHtml(None, "size")
    normal = normalise(html)
    if isinstance(normal, CleanHtml):
        return normal
    return CleanHtml(sanitise(normal))


def normalise(html: str) -> str | CleanHtml:
    """``html`` reduced to allowlisted tags and attributes, balanced; or the cap it broke."""
    out: list[str] = []
    tree = _Tree(out)
    tags = 0
    pos, end = 0, len(html)
    while pos < end:
        lt = html.find("<", pos)
        if lt < 0:
            out.append(html[pos:])
            break
        out.append(html[pos:lt])  # holds no "<": text stays text
        # Every "<" counts, tag or not: comments and stray "<" cost a turn of this loop too.
        tags += 1
        if tags > MAX_TAGS:
            return CleanHtml(None, "tags")
        match = _TAG.match(html, lt)
        if match is None:
            if _TAG_OPEN.match(html, lt):
                break  # a tag that never ends: the rest of the document is inside it
            pos = _skip_markup(html, lt, out)
            continue
        pos = match.end()
        name = match.group(2).lower()
        if match.group(1):
            tree.end(name)
            continue
        if name in _RAW_TEXT or name in _DROPPED_CONTENT:
            found = _RAW_TEXT_END[name].search(html, pos)
            stop = found.start() if found else end
            if name in _RAW_TEXT:
                out.append(html[pos:stop].replace("<", "&lt;"))
            pos = stop
            continue
        if name in CLEAN_TAGS and not tree.start(name, match.group(3)):
            return CleanHtml(None, "depth")
        # Any other tag is dropped; its content is read on as if the tag were not there.
    tree.close_all()
    return "".join(out)


class _Tree:
    """The elements open in the rewritten document, with the HTML parser's implied end tags.

    The parser closes an open ``<p>`` when a block starts, a ``<li>`` when the next one starts,
    a table cell or row when the next one starts; doing the same here keeps ordinary mail with
    unclosed paragraphs and list items shallow, and nh3's result the same as on the original.
    """

    def __init__(self, out: list[str]) -> None:
        self.out = out
        self.stack: list[str] = []
        self.count: dict[str, int] = {}
        # Looking down the stack for an element to close costs at most this many steps in all;
        # only a document built to make the search long gets near it.
        self.budget = 20 * MAX_TAGS

    def start(self, name: str, attributes: str) -> bool:
        """Open ``name`` (closing what it implies); False when that is one level too deep."""
        closes = _IMPLIED_BY.get(name)
        if closes is not None:
            found = self._find(*closes)
            if found is None:
                return False
            if found >= 0:
                self._pop_to(found)
        elif name in _HEADINGS and self.stack and self.stack[-1] in _HEADINGS:
            self._pop_to(len(self.stack) - 1)
        self.out.append(_start_tag(name, attributes))
        if name in _VOID:
            return True
        self.stack.append(name)
        self.count[name] = self.count.get(name, 0) + 1
        return len(self.stack) <= MAX_DEPTH

    def end(self, name: str) -> None:
        if name == "br":  # the HTML parser reads </br> as <br>
            self.out.append("<br>")
        elif self.count.get(name):
            self._pop_to(len(self.stack) - 1 - self.stack[::-1].index(name))

    def close_all(self) -> None:
        if self.stack:
            self._pop_to(0)

    def _find(self, targets: frozenset[str], stops: frozenset[str]) -> int | None:
        """Index of the topmost open element in ``targets`` above any in ``stops``; -1 if none.

        None when the search budget is spent."""
        if not any(self.count.get(t) for t in targets):
            return -1
        for index in range(len(self.stack) - 1, -1, -1):
            self.budget -= 1
            if self.budget < 0:
                return None
            node = self.stack[index]
            if node in targets:
                return index
            if node in stops:
                return -1
        return -1

    def _pop_to(self, index: int) -> None:
        while len(self.stack) > index:
            top = self.stack.pop()
            self.count[top] -= 1
            self.out.append(f"</{top}>")


_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
# Start tags that close an open element first: (what they close, what ends the search). A table
# or cell ends the search for a paragraph or link to close (the parser's "scope"); a table ends
# it for a cell, row or section; any block but div and p ends it for a list item.
_IN_CELL = frozenset({"table", "td", "th"})
_IN_TABLE = frozenset({"table"})
_CLOSES_P = (frozenset({"p"}), _IN_CELL)
_IMPLIED_BY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    **dict.fromkeys(("p", "div", "blockquote", "ol", "ul", "pre", "table", "hr", "h1", "h2",
                     "h3", "h4"), _CLOSES_P),
    "li": (frozenset({"li"}), frozenset({"blockquote", "ol", "ul", "pre", "table", "tbody",
                                         "thead", "tr", "td", "th", "h1", "h2", "h3", "h4"})),
    "td": (frozenset({"td", "th"}), _IN_TABLE),
    "th": (frozenset({"td", "th"}), _IN_TABLE),
    "tr": (frozenset({"tr"}), _IN_TABLE),
    "tbody": (frozenset({"tbody", "thead"}), _IN_TABLE),
    "thead": (frozenset({"tbody", "thead"}), _IN_TABLE),
    "a": (frozenset({"a"}), _IN_CELL),
}  # fmt: skip
_RAW_TEXT_END = {
    name: re.compile(rf"</{name}[{_WS}/>]", re.IGNORECASE) for name in _RAW_TEXT | _DROPPED_CONTENT
}


def _skip_markup(html: str, lt: int, out: list[str]) -> int:
    """Past a comment, doctype, processing instruction or stray ``<`` at ``lt``."""
    end = len(html)
    rest = html[lt + 1 : lt + 4]
    if rest.startswith("!--"):
        for short in ("<!-->", "<!--->"):
            if html.startswith(short, lt):
                return lt + len(short)
        found = _COMMENT_END.search(html, lt + 4)
        return found.end() if found else end
    if rest.startswith(("!", "?", "/")):
        if rest.startswith("/>"):
            return lt + 3  # "</>" is dropped
        close = html.find(">", lt + 2)
        return close + 1 if close >= 0 else end
    out.append("&lt;")
    return lt + 1


def _start_tag(name: str, attributes: str) -> str:
    """``<name …>`` with only the attributes nh3 keeps for it, each once, double-quoted."""
    allowed = CLEAN_ATTRIBUTES.get(name)
    if not allowed or not attributes:
        return f"<{name}>"
    kept: dict[str, str] = {}
    for found in _ATTRIBUTE.finditer(attributes):
        key = found.group(1).lower()
        if key in allowed and key not in kept:  # the first of a repeated attribute counts
            value = found.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            kept[key] = value.replace('"', "&quot;")
    return "<" + " ".join([name, *(f'{k}="{v}"' for k, v in kept.items())]) + ">"
