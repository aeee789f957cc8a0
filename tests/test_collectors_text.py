"""HTML to text for the sources that deliver HTML; the shared ingest path never does this."""

from __future__ import annotations

import pytest

from collectors.text import html_to_text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Great <b>chair</b></p><p>Fast delivery</p>", "Great chair\nFast delivery"),
        ('Mooi<script>alert(1)</script> <img src=x onerror="alert(2)">stoel', "Mooi stoel"),
        ("<style>p{}</style><iframe src=//evil.example>x</iframe>Mooi", "Mooi"),
        ("Fijn &amp; snel &lt;3 &#x1F44D;", "Fijn & snel <3 \U0001f44d"),
        ("one<br>two<br/>three", "one\ntwo\nthree"),
        ("<ul><li>sturdy</li><li>pretty</li></ul>", "sturdy\npretty"),
        ("  lots \t of\u00a0 space  ", "lots of space"),
    ],
)
def test_html_becomes_the_text_a_reader_sees(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_escaped_markup_stays_as_text_once_decoded() -> None:
    # An HTML source that shows "<script>" to its readers sends it escaped: that is what they read.
    assert html_to_text("the site showed &lt;script&gt; errors") == "the site showed <script> errors"
