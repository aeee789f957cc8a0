"""Fast lexicon scoring: our own tokeniser, negation scope, intensifiers, but-clauses and review phrases.

TextBlob's tokeniser and tagger cost most of its time; a regular expression and dictionary look-ups over the
same lexicon are several times faster. The result is a handful of numbers (`Features`) that mean the same in
every language, so one small model (sentiment/model.py) can weigh them for en, nl, de and fr alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sentiment.lexicon import Lexicon

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[.!?;]+|,")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_NEGATION_SPAN = 3  # words after a negator that it still turns around ("not at all good")
_NEGATED = -0.6  # "not good" is weaker than "bad"; "not bad" is mildly positive
_BEFORE_CONTRAST = 0.5  # what came before "but" in the same sentence counts half ...
_AFTER_CONTRAST = 1.5  # ... and what follows counts more


@dataclass(frozen=True, slots=True)
class Part:
    """Sums over one piece of text (a title or a body)."""

    positive: float = 0.0
    negative: float = 0.0
    phrase_positive: float = 0.0
    phrase_negative: float = 0.0
    negated_positive: int = 0
    words: int = 0
    last_sentence: float = 0.0
    worst_sentence: float = 0.0
    best_sentence: float = 0.0
    negative_sentences: int = 0
    sentences: int = 0
    exclamations: int = 0
    shouted: int = 0  # words of 3+ letters in capitals
    tokens: tuple[str, ...] = ()  # the words, lower case, for the model's vocabulary part


def score(text: str, lexicon: Lexicon) -> Part:
    """Lexicon sums of `text` with negation, intensifiers, contrast and phrases applied."""
    shouted = sum(1 for w in re.findall(r"\b[A-Z]{3,}\b", text))
    tokens = _TOKEN.findall(text.translate(_APOSTROPHES).lower())
    words_of = lexicon.words
    boosts = lexicon.intensifiers
    negators = lexicon.negators
    contrasts = lexicon.contrasts
    phrases = lexicon.phrases
    known = lexicon.known
    pos = neg = ph_pos = ph_neg = 0.0
    negated_pos = n_words = exclamations = 0
    sentence: list[float] = []  # signed contributions of the current sentence
    last = worst = best = 0.0
    neg_sentences = sentences = 0
    negation = 0  # words still inside a negation's scope
    boost = 1.0
    weight = 1.0
    i, n = 0, len(tokens)
    trailing = lexicon.trailing_negation
    recent: int | None = None  # index after the last scored word of this sentence, for a trailing negator

    def close_sentence() -> None:
        nonlocal pos, neg, last, worst, best, neg_sentences, sentences, sentence, weight, negation, boost, recent
        if sentence:
            net = sum(sentence)
            pos += sum(s for s in sentence if s > 0)
            neg -= sum(s for s in sentence if s < 0)
            sentences += 1
            if net < 0:
                neg_sentences += 1
            last = net
            worst = min(worst, net)
            best = max(best, net)
        sentence = []
        weight = 1.0
        negation = 0
        boost = 1.0
        recent = None

    while i < n:
        tok = tokens[i]
        first = tok[0]
        if not first.isalnum():
            if first in ".!?;":
                exclamations += tok.count("!")
                close_sentence()
            else:  # a comma ends a negation's scope, not the sentence
                negation = 0
                boost = 1.0
            i += 1
            continue
        n_words += 1
        if tok not in known:  # most words: no opinion, no role; one look-up instead of five
            i += 1
            if negation:
                negation -= 1
            continue
        matched = False
        for rest, value in phrases.get(tok, ()):
            k = len(rest)
            if tuple(tokens[i + 1 : i + 1 + k]) == rest:
                sentence.append(value * weight)
                if value > 0:
                    ph_pos += value
                else:
                    ph_neg -= value
                i += 1 + k
                n_words += k
                matched = True
                negation = 0
                boost = 1.0
                recent = None  # a phrase carries its own negation
                break
        if matched:
            continue
        i += 1
        if tok in contrasts:
            if not sentence:  # "However, ..." opening a sentence turns against the sentences before it
                pos *= _BEFORE_CONTRAST
                neg *= _BEFORE_CONTRAST
            sentence = [s * _BEFORE_CONTRAST for s in sentence]
            weight = _AFTER_CONTRAST
            negation = 0
            recent = None
            if tok in words_of:  # "unfortunately", "helaas": a contrast with an opinion of its own
                sentence.append(words_of[tok] * weight)
            continue
        if tok in negators:
            if trailing and _ends_clause(tokens, i) and recent is not None and i - recent <= _NEGATION_SPAN + 1:
                # Dutch and German put the negation after the verb: "het bevalt me niet", "gefällt mir nicht"
                if sentence[-1] > 0:
                    negated_pos += 1
                sentence[-1] *= _NEGATED
                recent = None
                continue
            negation = _NEGATION_SPAN
            continue
        if tok in boosts:
            boost *= boosts[tok]
            continue
        found = words_of.get(tok)
        if found is None:
            if negation:
                negation -= 1
            continue
        value = found * boost
        recent = i
        if negation:
            if value > 0:
                negated_pos += 1
            value *= _NEGATED
            negation = 0
            recent = None  # turned around already
        boost = 1.0
        sentence.append(max(-1.5, min(1.5, value)) * weight)
    close_sentence()
    return Part(
        positive=pos,
        negative=neg,
        phrase_positive=ph_pos,
        phrase_negative=ph_neg,
        negated_positive=negated_pos,
        words=n_words,
        last_sentence=last,
        worst_sentence=worst,
        best_sentence=best,
        negative_sentences=neg_sentences,
        sentences=sentences,
        exclamations=exclamations,
        shouted=shouted,
        tokens=tuple([t for t in tokens if t[0].isalnum()]),
    )


def _ends_clause(tokens: list[str], i: int) -> bool:
    """Whether the token at `i` (the one after a negator) ends a clause: punctuation, or the end."""
    return i >= len(tokens) or not tokens[i][0].isalnum()


def own_title(title: str, text: str) -> str:
    """The title, or "" when it is only the text's first words cut off ("I ordered a table and…", as
    Trustpilot makes them), so those words do not count twice."""
    head = title.rstrip().removesuffix("…").removesuffix("...").rstrip()
    if head and len(head) < len(title.rstrip()) and text.lstrip().startswith(head):
        return ""
    return title


def polarity(title: Part, body: Part) -> float:
    """A rule-only polarity in -1..1 (used where no model weighs the features)."""
    pos = title.positive * 1.5 + body.positive
    neg = title.negative * 1.5 + body.negative
    return math.tanh((pos - neg) / math.sqrt(1.0 + pos + neg))


def features(title: Part, body: Part) -> list[float]:
    """The model's inputs: the same meaning in every language."""
    size = math.sqrt(1.0 + body.words)
    return [
        title.positive,
        title.negative,
        body.positive / size,
        body.negative / size,
        math.log1p(body.positive),
        math.log1p(body.negative),
        min(title.phrase_positive + body.phrase_positive, 3.0),
        min(title.phrase_negative + body.phrase_negative, 3.0),
        min(title.negated_positive + body.negated_positive, 3.0),
        math.tanh(body.last_sentence),
        math.tanh(min(title.worst_sentence, body.worst_sentence)),
        math.tanh(max(title.best_sentence, body.best_sentence)),
        body.negative_sentences / max(1, body.sentences),
        min(title.exclamations + body.exclamations, 5.0) / 5.0,
        min(title.shouted + body.shouted, 5.0) / 5.0,
        math.log1p(body.words) / 5.0,
        polarity(title, body),
    ]
