"""On the real pet-insurance reviews, discovery alone finds what their one-star reviews are about (skipped without
../shared); and the shipped furniture taxonomy knows no insurance word that could have found it instead."""

from __future__ import annotations

import re

import pytest

from bench.complaints import load
from sentiment.discovery import discover
from sentiment.taxonomy import default_taxonomy, normalize
from tests.conftest import shared_data_or_skip

INSURANCE = re.compile(r"claim|insur|polic|premium|deductible|existing|\bvet|coverage|covered|reimburs|cancel")


def test_the_furniture_taxonomy_names_no_insurance_word() -> None:
    phrases = [p for a in default_taxonomy().aspects for ps in a.phrases.values() for p in ps]
    assert not [p for p in phrases if INSURANCE.search(normalize(p))]


@pytest.mark.shared_data
def test_the_known_themes_come_out_by_themselves() -> None:
    files = sorted(shared_data_or_skip().glob("*.csv"))
    negative = [r for f in files for r in load(f) if r.rating <= 2]
    texts = [(r.id, normalize(f"{r.title}. {r.text}")) for r in negative]
    labels = [t.label for t in discover(texts, max_themes=12, extra_stop_words=[f.stem for f in files])]
    for theme in (r"\bden(y|ied)", r"pre ?existing", r"\bcancel", r"increase|premium"):
        assert any(re.search(theme, label) for label in labels), (theme, labels)
    # slow reimbursement shows as a processing-delay theme (days, weeks, months), not under its own words
    assert any(re.search(r"\b(days|weeks|months)\b", label) for label in labels), labels
