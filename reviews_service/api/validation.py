"""pydantic's validation errors in plain words: the field as the caller wrote it and what it must be.

No class names (`ProductIn.sku`), no `NoneType`, no regular expressions: a pattern is described by what it
allows. Used by the RequestValidationError handler in app.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviews_service.api.admin import SKU, SLUG

# What each pattern used in a route or a body model allows, in words.
PATTERNS = {
    SKU: "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit",
    SLUG: "1-63 lowercase letters, digits or '-', starting with a letter or digit",
    r"^[a-z]{2}(-[A-Z]{2})?$": "a language code such as nl or nl-BE",
    "^[a-z]{2}$": "a two-letter language code such as nl",
}
_LOCATIONS = ("body", "query", "path", "header", "cookie")
# A union (ProductIn | list[ProductIn]) reports a "wrong type" error for each member that did not fit at all.
_WRONG_TYPE = {"model_type", "model_attributes_type", "dict_type", "list_type"}


def _is_member_tag(part: Any) -> bool:
    """pydantic names union members in the location (`ProductIn`, `list[ProductIn]`); our fields are lowercase."""
    return isinstance(part, str) and ("[" in part or part[:1].isupper())


def field_name(loc: Sequence[Any]) -> str:
    """`('body', 'ProductIn', 'locales', 0)` -> `locales[0]`; the whole body is `body`."""
    name = ""
    for part in loc[1:] if loc and loc[0] in _LOCATIONS else loc:
        if _is_member_tag(part):
            continue
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name if name[:1].isalpha() else f"body{name}"


def sentence(error: dict[str, Any]) -> str:
    """One pydantic error as a sentence a person can act on."""
    field, kind, ctx = field_name(error.get("loc", ())), error.get("type", ""), error.get("ctx") or {}
    simple = {
        "missing": "is required",
        "extra_forbidden": "is not a field of this request; check its spelling",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "list_type": "must be a list",
        "dict_type": "must be a JSON object",
        "model_type": "must be a JSON object",
        "model_attributes_type": "must be a JSON object",
        "string_sub_type": "must be text",
    }
    if kind == "missing" and field == "body":
        return "A JSON body is required."
    if kind in simple:
        return f"{field} {simple[kind]}."
    if kind == "string_pattern_mismatch":
        return f"{field} must be {PATTERNS.get(str(ctx.get('pattern')), 'of the documented form (see /docs)')}."
    if kind == "string_too_short":
        size = int(ctx.get("min_length", 1))
        return f"{field} must not be empty." if size == 1 else f"{field} must be at least {size} characters."
    if kind == "string_too_long":
        return f"{field} must be at most {ctx.get('max_length')} characters."
    if kind == "too_short":
        return f"{field} must have at least {ctx.get('min_length')} item(s)."
    if kind == "too_long":
        return f"{field} must have at most {ctx.get('max_length')} items."
    bounds = {
        "greater_than_equal": "at least",
        "greater_than": "more than",
        "less_than_equal": "at most",
        "less_than": "less than",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"{field} must be {bounds[kind]} {limit}."
    if kind in ("literal_error", "enum"):
        return f"{field} must be {ctx.get('expected', 'one of the documented values')}."
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith(f"{field} "):
        return message.rstrip(".") + "."
    message = message.replace("Input should be", "must be").replace("NoneType", "null")
    return f"{field}: {message.rstrip('.')}." if not message.startswith("must") else f"{field} {message}."


def plain_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """`[{"field", "message"}]` for a problem's `errors`, with union members that did not fit at all left out."""
    relevant = [e for e in errors if not (e.get("type") in _WRONG_TYPE and _is_member_tag(tuple(e["loc"])[-1]))]
    if not relevant and errors:  # nothing fitted any member: say what the body may be
        field = field_name(tuple(errors[0].get("loc", ())))
        return [{"field": field, "message": f"{field} must be a JSON object or a list of them."}]
    unique: dict[tuple[str, str], dict[str, str]] = {}
    for error in relevant:
        field, message = field_name(tuple(error.get("loc", ()))), sentence(error)
        unique.setdefault((field, message), {"field": field, "message": message})
    return list(unique.values())
