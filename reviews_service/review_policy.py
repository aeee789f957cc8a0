"""A unit's review policy, built from its own data: how its reviews are collected, checked and moderated. Pure.

The EU Omnibus Directive ((EU) 2019/2161, amending the UCPD, Annex I point 23b and Art. 7(6)) asks a trader that
gives access to consumer reviews to say whether and how it ensures they come from consumers who used or bought
the product. What is said here is what the data shows: the sources the unit has configured and the ones its
reviews came from, how many of each are verified, how many buyers answered an invitation after an order online or
in a shop, and how many reviews moderators hid, by kind of reason (never the reasons' texts). The counts come from
`repository.review_counts`; the page (policy_page.py) and the JSON (api/policy.py) both render a `Policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reviews_service import domain

Kind = Literal["invitation", "platform", "pages", "import"]
Verification = Literal["order", "platform", "as_supplied"]
# How each source's reviews reach us, and who vouches for their `verified` mark:
# - form: our own invitation after an order; the link works for that order only, so every such review is verified;
# - trustpilot, kiyoh: a review platform; `verified` is the platform's (Trustpilot's isVerified, Kiyoh's order tie);
# - structured-data: the shop's own (old) pages, as they mark them up;
# - anything else (api, csv, import, ...): the shop's own systems or files; `verified` is as the shop sent it.
KNOWN_SOURCES: dict[str, tuple[Kind, Verification]] = {
    "form": ("invitation", "order"),
    "trustpilot": ("platform", "platform"),
    "kiyoh": ("platform", "platform"),
    "structured-data": ("pages", "as_supplied"),
}
PLATFORM_NAMES = {"trustpilot": "Trustpilot", "kiyoh": "Kiyoh"}
MAX_SOURCES = 20  # sources listed; the rest (free names sent through the API) are summed as "other"
OTHER_SOURCES = "other"
# Why reviews are not shown, besides the moderators' categories (domain.MODERATION_CATEGORIES):
AT_SOURCE = "source"  # hidden or removed by the platform or file it came from
NOT_RECORDED = "not_recorded"  # hidden by a moderator before reasons were recorded


@dataclass(frozen=True)
class SourceCount:
    """A source's published reviews and how many of them are verified."""

    published: int = 0
    verified: int = 0


@dataclass(frozen=True)
class ReviewCounts:
    """What the store says about a unit's reviews (repository.review_counts), before any wording."""

    sources: dict[str, SourceCount] = field(default_factory=dict)  # published reviews per source
    methods: dict[str, int] = field(default_factory=dict)  # published per collection_method ("unknown": unsaid)
    withdrawn: dict[str, int] = field(default_factory=dict)  # hidden or removed now, per category / AT_SOURCE
    invitations: dict[str, int] = field(default_factory=dict)  # invitations answered, per channel (web, store)


@dataclass(frozen=True)
class SourceLine:
    """One source as the policy shows it."""

    source: str
    kind: Kind
    verification: Verification
    configured: bool  # set up in the unit's `sources` (collected on a schedule)
    review_count: int
    verified_count: int
    name: str | None = None  # a platform's own name (Trustpilot); None where the page words it


@dataclass(frozen=True)
class Policy:
    """A unit's review policy: every figure the page states, in no language yet."""

    business_unit: str
    name: str
    review_count: int
    verified_count: int
    sources: tuple[SourceLine, ...]
    methods: dict[str, int]
    invitations_answered: dict[str, int]  # per channel
    invitation_policy: domain.InvitationPolicy
    withdrawn: dict[str, int]
    reviews_link: str

    @property
    def verified_share(self) -> float | None:
        """The verified part of the published reviews (0-1, 3 decimals); None without reviews."""
        return None if self.review_count == 0 else round(self.verified_count / self.review_count, 3)

    @property
    def invites(self) -> bool:
        """Whether the unit asks its buyers (it has invitation reviews or answered invitations)."""
        return any(s.kind == "invitation" and s.review_count for s in self.sources) or any(
            self.invitations_answered.values()
        )


def page_url(base_url: str, business_unit: str, locale: str | None = None) -> str:
    """Where a unit's review-policy page is on the service (`base_url`): what every widget's info link opens."""
    url = f"{base_url.rstrip('/')}/reviews/{business_unit}/about"
    return f"{url}?locale={locale}" if locale else url


def build(unit: domain.BusinessUnit, counts: ReviewCounts) -> Policy:
    """The policy of `unit` from its counts: configured sources are listed even before their first review."""
    names = list(dict.fromkeys([*counts.sources, *unit.sources]))
    lines = [_line(name, name in unit.sources, counts.sources.get(name, SourceCount())) for name in names]
    # the invitations first, then platforms, pages and imports; within a kind the larger first
    order: tuple[Kind, ...] = ("invitation", "platform", "pages", "import")
    lines.sort(key=lambda s: (order.index(s.kind), -s.review_count, s.source))
    kept, rest = lines[:MAX_SOURCES], lines[MAX_SOURCES:]
    if rest:
        extra = SourceCount(sum(s.review_count for s in rest), sum(s.verified_count for s in rest))
        kept.append(_line(OTHER_SOURCES, False, extra))
    return Policy(
        business_unit=unit.slug,
        name=unit.name,
        review_count=sum(c.published for c in counts.sources.values()),
        verified_count=sum(c.verified for c in counts.sources.values()),
        sources=tuple(kept),
        methods=dict(sorted(counts.methods.items())),
        invitations_answered={channel: counts.invitations.get(channel, 0) for channel in domain.CHANNELS},
        invitation_policy=unit.invitations,
        withdrawn={k: n for k, n in sorted(counts.withdrawn.items()) if n},
        reviews_link=unit.reviews_link,
    )


def _line(source: str, configured: bool, count: SourceCount) -> SourceLine:
    kind, verification = KNOWN_SOURCES.get(source, ("import", "as_supplied"))
    return SourceLine(
        source=source,
        kind=kind,
        verification=verification,
        configured=configured,
        review_count=count.published,
        verified_count=count.verified,
        name=PLATFORM_NAMES.get(source),
    )


def as_json(policy: Policy, page_url: str) -> dict[str, Any]:
    """The policy as `GET /v1/business-units/{bu}/review-policy` answers it (the page's figures, no wording)."""
    invitation = policy.invitation_policy
    return {
        "business_unit": policy.business_unit,
        "name": policy.name,
        "page": page_url,
        "review_count": policy.review_count,
        "verified_count": policy.verified_count,
        "verified_share": policy.verified_share,
        "invitations": {
            "used": policy.invites,
            "answered": dict(policy.invitations_answered),
            "delay_days": invitation.delay_days,
            "reminder_days": invitation.reminder_days,
            "verified": True,
            "collection_method": "post_fulfillment",
        },
        "sources": [
            {
                "source": s.source,
                "name": s.name,
                "kind": s.kind,
                "configured": s.configured,
                "verification": s.verification,
                "review_count": s.review_count,
                "verified_count": s.verified_count,
            }
            for s in policy.sources
        ],
        "collection_methods": dict(policy.methods),
        "moderation": {
            "filtered_by_rating": False,
            "reason_required": True,
            "categories": list(domain.MODERATION_CATEGORIES),
            "withdrawn": dict(policy.withdrawn),
            "replies_by": "shop",
        },
    }
