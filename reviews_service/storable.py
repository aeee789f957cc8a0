"""What MongoDB can store: checks for free-form settings before they reach the store. Pure, no I/O.

BSON refuses keys with a `.` or a leading `$` (and operators make any `$` in a key a trap), NUL in
keys, strings that are not valid UTF-8 (unpaired surrogates) and integers over 64 bits. Without
these checks such settings were a 500 from the driver instead of a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

INT64 = (-(2**63), 2**63 - 1)
MAX_DEPTH = 10
MAX_ITEMS = 1000


def storable_string(text: str) -> bool:
    """Whether `text` is a string MongoDB stores as sent: no NUL, valid UTF-8 (no unpaired surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable(value: Any, path: str) -> str | None:
    """Why `value` (JSON-shaped) cannot be stored, naming where; None when it can."""
    budget = [MAX_ITEMS]
    return _check(value, path, 0, budget)


def _check(value: Any, path: str, depth: int, budget: list[int]) -> str | None:
    budget[0] -= 1
    if budget[0] < 0:
        return f"{path.split('.')[0]} has more than {MAX_ITEMS} entries"
    if depth > MAX_DEPTH:
        return f"{path} is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            return f"{path} is a number beyond 64 bits; send it as a string"
        return None
    if isinstance(value, str):
        return None if storable_string(value) else f"{path} contains a NUL character or an unpaired surrogate"
    if isinstance(value, dict):
        for key, item in value.items():
            shown = repr(key[:40]) if isinstance(key, str) else repr(key)
            if not isinstance(key, str) or not key:
                return f"{path} has an empty key"
            if "$" in key or "." in key:
                return f"{path} key {shown} contains '$' or '.', which MongoDB cannot store in a key"
            if not storable_string(key):
                return f"{path} key {shown} contains a NUL character or an unpaired surrogate"
            problem = _check(item, f"{path}.{key}", depth + 1, budget)
            if problem:
                return problem
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _check(item, f"{path}[{index}]", depth + 1, budget)
            if problem:
                return problem
        return None
    return f"{path} holds a {type(value).__name__}, which is not JSON"
