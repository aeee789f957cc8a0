"""HTML to plain text, for the sources that really deliver HTML (web pages, rich-text feeds).

The shared ingest path stores text as the customer wrote it, so "a<b and c>d" stays as it is; a
collector whose source sends markup calls `html_to_text` in its own parser, where it knows that
the field is HTML.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

# Elements whose content is never readable text (code, embedded documents).
_DROPPED = ("script", "style", "template", "iframe", "object", "noscript", "head")
# Elements that end a line when a browser lays them out.
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\f\v]+")


def html_to_text(markup: str) -> str:
    """The text a reader sees in an HTML fragment: tags gone, entities decoded, blocks on their own lines."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(list(_DROPPED)):
        tag.decompose()
    for br in soup("br"):
        br.replace_with("\n")
    for block in soup(list(_BLOCKS)):
        block.insert_after("\n")
    text = soup.get_text()
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
