"""Why a flag was raised, in plain words of the reader's language, rendered from its kind and numbers.

The words live in the `flags.po` catalogs (reviews_service/locales/*/LC_MESSAGES), numbers are formatted by
babel for the locale, so "4.6" reads "4,6" in Dutch and the same flag reads right in every language.
"""

from __future__ import annotations

from typing import Any

from reviews_service import domain
from reviews_service.i18n import format_number, gettext, ngettext

SMALLEST_P = 0.0001  # p-values below this read "p < 0.0001": more digits say nothing to a reader


def _num(value: Any, locale: str, decimals: int = 1) -> str:
    return format_number(float(value), locale, decimals)


def _p(value: Any, locale: str) -> str:
    p = float(value)
    if p < SMALLEST_P:
        return f"p < {format_number(SMALLEST_P, locale, 4)}"
    return f"p = {format_number(p, locale, 4)}"


def reason(flag: domain.Flag, locale: str) -> str:
    """The flag's reason in `locale` (nl, en, de, fr; others read English)."""
    d = flag.details
    if flag.kind == "one-star":
        return _one_star(d, locale)
    if flag.kind == "outlier":
        values = {"rating": d["rating"], "mean": _num(d["mean"], locale)}
        if d.get("scope") == "product":
            return ngettext(
                locale,
                "{rating} stars, far below this product's average of {mean} over {n} review",
                "{rating} stars, far below this product's average of {mean} over {n} reviews",
                int(d["count"]),
                **values,
            )
        return ngettext(
            locale,
            "{rating} stars, far below the shop's average of {mean} over {n} review",
            "{rating} stars, far below the shop's average of {mean} over {n} reviews",
            int(d["count"]),
            **values,
        )
    if flag.kind == "mismatch":
        polarity = _num(d["polarity"], locale)
        if int(d["rating"]) >= 4:
            return ngettext(
                locale,
                "{n} star, but the text reads as clearly negative (polarity {polarity})",
                "{n} stars, but the text reads as clearly negative (polarity {polarity})",
                int(d["rating"]),
                polarity=polarity,
            )
        return ngettext(
            locale,
            "{n} star, but the text reads as clearly positive (polarity {polarity})",
            "{n} stars, but the text reads as clearly positive (polarity {polarity})",
            int(d["rating"]),
            polarity=polarity,
        )
    if flag.kind == "score-drop":
        return ngettext(
            locale,
            "Average of the last {days} days {recent} over {n} review, down from {previous} in the {previous_days} "
            "days before (one-sided Mann-Whitney U test, {p})",
            "Average of the last {days} days {recent} over {n} reviews, down from {previous} in the {previous_days} "
            "days before (one-sided Mann-Whitney U test, {p})",
            int(d["recent_count"]),
            days=d["days"],
            recent=_num(d["recent_mean"], locale, 2),
            previous=_num(d["previous_mean"], locale, 2),
            previous_days=d["previous_days"],
            p=_p(d["p_value"], locale),
        )
    return ngettext(
        locale,
        "{n} review in {hours} hours where about {expected} are usual (Poisson tail test, {p})",
        "{n} reviews in {hours} hours where about {expected} are usual (Poisson tail test, {p})",
        int(d["count"]),
        hours=d["hours"],
        expected=_num(d["expected"], locale),
        p=_p(d["p_value"], locale),
    )


def _one_star(d: dict[str, Any], locale: str) -> str:
    if "mean" not in d:
        return gettext(locale, "1 star")
    values = {"mean": _num(d["mean"], locale)}
    if d.get("scope") == "product":
        return ngettext(
            locale,
            "1 star, against this product's average of {mean} over {n} review",
            "1 star, against this product's average of {mean} over {n} reviews",
            int(d["count"]),
            **values,
        )
    return ngettext(
        locale,
        "1 star, against the shop's average of {mean} over {n} review",
        "1 star, against the shop's average of {mean} over {n} reviews",
        int(d["count"]),
        **values,
    )
