"""The digest's words and figures in its reader's language, shared by the HTML, the plain text and the JSON.

Every word goes through `i18n` (catalogs `locales/*/LC_MESSAGES/digest.po`); numbers, dates and times through
babel's CLDR formats, in the business unit's time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reviews_service import i18n
from sentiment.digest import ComplaintItem, Digest, Window, yesterday


class Words:
    """The digest's sentences in `digest.locale`."""

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self.locale = locale = digest.locale
        # the fixed words, said here (outside f-strings, where the catalog check finds every msgid)
        self.no_one_stars = i18n.gettext(locale, "No one-star reviews.")
        self.not_yet = i18n.gettext(locale, "This section is not available right now.")
        self.no_flags = i18n.gettext(locale, "No open flags.")
        self.review = i18n.gettext(locale, "Review")
        self.no_complaints = i18n.gettext(locale, "No recurring complaints.")
        self.open_page = i18n.gettext(locale, "Open this digest in your browser")
        self.daily = i18n.gettext(locale, "Daily digest")
        self.moderate = i18n.gettext(locale, "Moderate this review")

    def number(self, value: float, decimals: int = 1) -> str:
        """A figure as the locale writes it."""
        return i18n.format_number(value, self.locale, decimals=decimals)

    def signed(self, value: float, decimals: int = 1) -> str:
        """A change with its sign: +0,3 / −0,2 / ±0 (a true minus sign, as typeset)."""
        if round(value, decimals) == 0:
            return "±" + self.number(0, decimals)
        return ("+" if value > 0 else "−") + self.number(abs(value), decimals)

    def day(self) -> str:
        """The digest's day, written out."""
        return i18n.format_date(self.digest.day, self.locale, "full")

    def when(self, moment: datetime) -> str:
        """A time of the day in the unit's zone."""
        return i18n.format_datetime(moment, self.locale, tz=self.digest.timezone, format="short")

    def subject(self) -> str:
        """The e-mail's subject line."""
        d = self.digest
        if d.empty:
            return i18n.gettext(self.locale, "{shop}: no new reviews on {date}", shop=d.name, date=self.short_day())
        return i18n.ngettext(
            self.locale,
            "{shop}: {n} new review on {date}, average {average}",
            "{shop}: {n} new reviews on {date}, average {average}",
            d.count,
            shop=d.name,
            date=self.short_day(),
            average=self.number(d.average or 0),
        )

    def short_day(self) -> str:
        """The digest's day, short (in the subject)."""
        return i18n.format_date(self.digest.day, self.locale, "medium")

    def headline(self) -> str:
        """The first sentence: how many reviews arrived, or that none did."""
        d = self.digest
        if d.empty:
            if d.day == yesterday(d.generated_at, d.timezone):
                return i18n.gettext(self.locale, "No new reviews yesterday.")
            return i18n.gettext(self.locale, "No new reviews on {date}.", date=self.short_day())
        return i18n.ngettext(self.locale, "{n} new review", "{n} new reviews", d.count)

    def average(self) -> str:
        """The day's average, or '' on an empty day."""
        if self.digest.average is None:
            return ""
        return i18n.gettext(self.locale, "Average {value} out of 5", value=self.number(self.digest.average, 2))

    def window_name(self, window: Window) -> str:
        """'Last 7 days'."""
        return i18n.ngettext(self.locale, "Last {n} day", "Last {n} days", window.days)

    def reviews(self, count: int) -> str:
        """'12 reviews'."""
        return i18n.ngettext(self.locale, "{n} review", "{n} reviews", count)

    def window_change(self, window: Window) -> str:
        """The window's change against the one before, or a dash when it cannot be told."""
        return "–" if window.change is None else self.signed(window.change, 2)

    def complaints(self, count: int) -> str:
        """'4 complaints'."""
        return i18n.ngettext(self.locale, "{n} complaint", "{n} complaints", count)

    def more(self, hidden: int) -> str:
        """'and 3 more' under a capped list."""
        return i18n.ngettext(self.locale, "and {n} more", "and {n} more", hidden)

    def complaint_change(self, item: ComplaintItem) -> str:
        """'+4 against the period before'."""
        return i18n.gettext(self.locale, "{change} against the period before", change=self.signed(item.change, 0))

    def chart_title(self) -> str:
        """The chart's caption and accessible name."""
        return i18n.gettext(self.locale, "Average score per day (dots) and over 7 days (line), last 90 days")

    def link_until(self, expires: datetime) -> str:
        """How long the web page link works."""
        return i18n.gettext(
            self.locale,
            "The link works until {date}.",
            date=i18n.format_date(expires - timedelta(seconds=1), self.locale),
        )

    def times_in(self) -> str:
        """Which time zone the times are in."""
        return i18n.gettext(self.locale, "Times are in {zone}.", zone=self.digest.timezone)
