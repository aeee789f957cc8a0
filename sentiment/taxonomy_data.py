"""Reading and merging taxonomy JSON: the shapes, the bounds and the messages a person can act on.

A taxonomy is `{"aspects": {id: {"label": str, "labels": {lang: str}, "phrases": {lang: [str]}}}}`. A business
unit's override has the same shape and extends the default: its phrases are added to an aspect's (or replace
them with `"replace": true`), its labels win, `"enabled": false` drops an aspect, a new id adds one, and
`"replace": true` at the top ignores the default altogether.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_ASPECTS = 60
MAX_PHRASES = 3000  # in the whole taxonomy: the matcher compiles them all, per request for a unit's own
MAX_PHRASES_PER_LANGUAGE = 300  # of one aspect
MAX_PHRASE_CHARS = 80
MAX_LABEL_CHARS = 80
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_ASPECT_KEYS = frozenset({"label", "labels", "phrases", "replace", "enabled"})


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"taxonomy {where}: {message}")


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "a label must be a non-empty string")
    if len(value) > MAX_LABEL_CHARS:
        raise _fail(where, f"a label has at most {MAX_LABEL_CHARS} characters")
    return value.strip()


def _phrase(value: Any, where: str) -> str:
    if not isinstance(value, str) or not any(c.isalnum() for c in value):
        raise _fail(where, "a phrase must be a string with at least one letter or digit")
    if len(value) > MAX_PHRASE_CHARS:
        raise _fail(where, f"a phrase has at most {MAX_PHRASE_CHARS} characters")
    words = value.split()
    if words[0] == "..." or words[-1] == "...":
        raise _fail(where, "'...' goes between two words")
    if any("*" in w[:-1] or w == "*" for w in words):
        raise _fail(where, "'*' goes at the end of a word")
    return " ".join(words)


def _language_map(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "expected an object keyed by language code (nl, en, de, fr, ...)")
    for lang in value:
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            raise _fail(where, f"{lang!r} is not a two-letter language code")
    return dict(value)


def _phrases(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in _language_map(value, where).items():
        if not isinstance(items, list):
            raise _fail(f"{where}.{lang}", "expected a list of phrases")
        if len(items) > MAX_PHRASES_PER_LANGUAGE:
            raise _fail(f"{where}.{lang}", f"at most {MAX_PHRASES_PER_LANGUAGE} phrases per language")
        out[lang] = tuple(dict.fromkeys(_phrase(p, f"{where}.{lang}[{i}]") for i, p in enumerate(items)))
    return out


def _aspects(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _fail("", "expected an object with 'aspects'")
    aspects = data.get("aspects", {})
    if not isinstance(aspects, Mapping):
        raise _fail("aspects", "expected an object keyed by aspect id")
    if len(aspects) > MAX_ASPECTS:
        raise _fail("aspects", f"at most {MAX_ASPECTS} aspects")
    for aspect_id, spec in aspects.items():
        if not isinstance(aspect_id, str) or not _SLUG.match(aspect_id):
            raise _fail("aspects", f"{aspect_id!r} is not an id (lower-case letters, digits, _; at most 40)")
        if not isinstance(spec, Mapping):
            raise _fail(f"aspects.{aspect_id}", "expected an object")
        unknown = sorted(set(spec) - _ASPECT_KEYS)
        if unknown:
            raise _fail(f"aspects.{aspect_id}", f"unknown field(s) {', '.join(map(str, unknown))}")
    return aspects


def _check_total(aspects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total = sum(len(p) for a in aspects for p in a["phrases"].values())
    if total > MAX_PHRASES:
        raise _fail("aspects", f"at most {MAX_PHRASES} phrases in all ({total} given)")
    return aspects


def parse_taxonomy(data: Any) -> list[dict[str, Any]]:
    """The validated fields of each aspect of a full taxonomy, in order; ValueError with the place if bad."""
    out = []
    for aspect_id, spec in _aspects(data).items():
        where = f"aspects.{aspect_id}"
        labels = {k: _label(v, f"{where}.labels.{k}") for k, v in _language_map(spec.get("labels", {}), where).items()}
        label = _label(spec.get("label", labels.get("en", aspect_id.replace("_", " ").capitalize())), where)
        out.append(
            {"id": aspect_id, "label": label, "labels": labels, "phrases": _phrases(spec.get("phrases", {}), where)}
        )
    return _check_total(out)


def validate_override(data: Any) -> dict[str, Any]:
    """A business unit's override checked (same bounds as a taxonomy) and returned as plain JSON."""
    aspects = _aspects(data)
    for aspect_id, spec in aspects.items():
        where = f"aspects.{aspect_id}"
        for flag in ("replace", "enabled"):
            if flag in spec and not isinstance(spec[flag], bool):
                raise _fail(f"{where}.{flag}", "expected true or false")
        for lang, value in _language_map(spec.get("labels", {}), f"{where}.labels").items():
            _label(value, f"{where}.labels.{lang}")
        if "label" in spec:
            _label(spec["label"], where)
        _phrases(spec.get("phrases", {}), f"{where}.phrases")
    if "replace" in data and not isinstance(data["replace"], bool):
        raise _fail("replace", "expected true or false")
    unknown = sorted(set(data) - {"aspects", "replace"})
    if unknown:
        raise _fail("", f"unknown field(s) {', '.join(map(str, unknown))}")
    return {
        "aspects": {k: dict(v) for k, v in aspects.items()},
        **({"replace": data["replace"]} if "replace" in data else {}),
    }


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON of `base` with a unit's `override` applied (see the module docstring)."""
    aspects: dict[str, dict[str, Any]] = {}
    if not override.get("replace"):
        for aspect_id, spec in base.get("aspects", {}).items():
            aspects[aspect_id] = {
                "label": spec["label"],
                "labels": dict(spec.get("labels", {})),
                "phrases": {k: list(v) for k, v in spec.get("phrases", {}).items()},
            }
    for aspect_id, spec in override.get("aspects", {}).items():
        if spec.get("enabled") is False:
            aspects.pop(aspect_id, None)
            continue
        target = aspects.setdefault(aspect_id, {"labels": {}, "phrases": {}})
        if "label" in spec:
            target["label"] = spec["label"]
        target["labels"].update(spec.get("labels", {}))
        if spec.get("replace"):
            target["phrases"] = {}
        for lang, phrases in spec.get("phrases", {}).items():
            target["phrases"][lang] = list(dict.fromkeys([*target["phrases"].get(lang, []), *phrases]))
    return {"aspects": aspects}
