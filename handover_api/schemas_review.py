"""Response bodies of the front-office review and the dashboard (pydantic v2).

``GET /api/v1/reviews/export`` answers YAML (``text/yaml``), not JSON; ``ReviewExportInfo``
documents its headers. ``GET /api/v1/stats`` answers ``StatsOut``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from handover_api.services.stats import Stats


class CountOut(BaseModel):
    key: str = Field(description="Code: team id, life-domain code, intent or event kind")
    label: str = Field(description="Readable name (Dutch)")
    count: int


class DayCountOut(BaseModel):
    day: date
    conversations: int


class DurationOut(BaseModel):
    median_seconds: float | None = Field(description="None when no handover got there")
    handovers: int = Field(description="How many handovers the median is taken over")


class StatsOut(BaseModel):
    """The dashboard's figures for the caller's organisation over ``[date_from, date_to]``
    (local dates, both included). Ratios are 0..1, None when there is nothing to divide by."""

    organisation: str
    date_from: date
    date_to: date
    conversations: int
    conversations_per_day: list[DayCountOut]
    user_messages: int
    fallback_messages: int
    fallback_rate: float | None
    conversations_with_fallback: int
    conversations_with_handover: int
    needed_person_share: float | None
    handovers: int
    handovers_per_destination: list[CountOut]
    handovers_per_life_domain: list[CountOut]
    time_to_claim: DurationOut
    time_to_first_contact: DurationOut
    handovers_outside_hours: int
    outside_hours_share: float | None
    misunderstood_intents: list[CountOut]
    events_per_kind: list[CountOut] = Field(
        default_factory=list,
        description="Timeline events of the organisation's handovers in the period, per kind "
        "(contact_made, contact_failed, returned, closed, ...)",
    )

    @classmethod
    def of(cls, organisation: str, stats: Stats) -> StatsOut:
        def counts(items: list[object]) -> list[CountOut]:
            return [CountOut.model_validate(c, from_attributes=True) for c in items]

        return cls(
            organisation=organisation,
            date_from=stats.date_from,
            date_to=stats.date_to,
            conversations=stats.conversations,
            conversations_per_day=[
                DayCountOut(day=d.day, conversations=d.count) for d in stats.per_day
            ],
            user_messages=stats.user_messages,
            fallback_messages=stats.fallback_messages,
            fallback_rate=stats.fallback_rate,
            conversations_with_fallback=stats.conversations_with_fallback,
            conversations_with_handover=stats.conversations_with_handover,
            needed_person_share=stats.person_share,
            handovers=stats.handovers,
            handovers_per_destination=counts(list(stats.per_destination)),
            handovers_per_life_domain=counts(list(stats.per_life_domain)),
            time_to_claim=DurationOut(
                median_seconds=stats.median_claim_seconds, handovers=stats.claimed
            ),
            time_to_first_contact=DurationOut(
                median_seconds=stats.median_first_contact_seconds, handovers=stats.contacted
            ),
            handovers_outside_hours=stats.outside_hours,
            outside_hours_share=stats.outside_hours_share,
            misunderstood_intents=counts(list(stats.misunderstood)),
            events_per_kind=counts(list(stats.events)),
        )


class ReviewExportInfo(BaseModel):
    """What ``GET /api/v1/reviews/export`` tells in its headers besides the YAML body."""

    intents: int = Field(description="X-Voordeur-Intents: intents in the export")
    examples: int = Field(description="X-Voordeur-Examples: example lines in the export")


class ReviewMarkOut(BaseModel):
    correct_intent: str
    reviewer: str = Field(description="Display name of the reviewer who marked it")
    at: datetime


class ReviewEventOut(BaseModel):
    """One message as the front office reads it: redacted, with the classifier's verdict."""

    event_id: str
    sender: str
    text: str = Field(description="Redacted")
    at: datetime
    intent: str | None = None
    confidence: float | None = None
    fallback: bool = False
    mark: ReviewMarkOut | None = None


class ConversationReviewOut(BaseModel):
    id: str
    municipality_code: str | None
    municipality_name: str
    channel: str | None
    started_at: datetime
    last_at: datetime
    user_messages: int
    fallbacks: int
    low_confidence: int
    min_confidence: float | None
    handover_references: list[str]
    events: list[ReviewEventOut]


class ConversationReviewPage(BaseModel):
    items: list[ConversationReviewOut]
    total: int
    page: int
    page_size: int


class ReviewIn(BaseModel):
    """``POST /api/v1/conversations/{id}/reviews`` (contract v2)."""

    model_config = {"extra": "forbid"}

    event_id: str = Field(min_length=1, max_length=200)
    verdict: Literal["misunderstood"]
    correct_intent: str = Field(min_length=1, max_length=100)


class ReviewOut(BaseModel):
    conversation_id: str
    event_id: str
    verdict: Literal["misunderstood"]
    correct_intent: str
    reviewer: str
    at: datetime
