"""/api/v1/reviews and /api/v1/conversations (list, reviews): the front office's review of
conversations and its corrections of the assistant's understanding (contract v2)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response

from handover_api.api.deps import DirectoryDep, ReviewerPrincipal, SessionDep
from handover_api.schemas import Channel
from handover_api.schemas_review import (
    ConversationReviewOut,
    ConversationReviewPage,
    ReviewEventOut,
    ReviewIn,
    ReviewMarkOut,
    ReviewOut,
)
from handover_api.services import reviews
from handover_api.services.errors import ServiceError

router = APIRouter(prefix="/reviews", tags=["reviews"])

# contract v2: "returns the corrected examples as Rasa NLU YAML (`text/yaml`)"
YAML_MEDIA_TYPE = "text/yaml"


def export_response(text: str, examples: dict[str, list[str]], organisation: str) -> Response:
    """The YAML as a download (``data/nlu/``-ready), with counts in headers."""
    return Response(
        content=text.encode("utf-8"),
        media_type=f"{YAML_MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="voordeur-correcties-{organisation}.yml"',
            "Cache-Control": "no-store",
            "X-Voordeur-Intents": str(len(examples)),
            "X-Voordeur-Examples": str(sum(len(v) for v in examples.values())),
        },
    )


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {YAML_MEDIA_TYPE: {}}, "description": "Rasa NLU YAML"}},
)
def export_corrections(session: SessionDep, principal: ReviewerPrincipal) -> Response:
    """All corrections of the caller's organisation as Rasa NLU training data.

    ``version: "3.1"`` and an ``nlu:`` list with one item per corrected intent; its
    ``examples: |`` block holds the redacted messages, one per line, deduplicated and sorted.
    Reviewed by a person before it goes into ``data/nlu/``. The export is audited.
    """
    assert principal.organisation is not None
    text, examples = reviews.export_nlu(session, principal=principal, via="api")
    session.commit()
    return export_response(text, examples, principal.organisation)


# --- contract v2: the front office's conversations --------------------------------------------

conversations_router = APIRouter(prefix="/conversations", tags=["reviews"])


def _review_out(
    row: reviews.ConversationRow, messages: list[reviews.MessageView]
) -> ConversationReviewOut:
    return ConversationReviewOut(
        id=row.id,
        municipality_code=row.municipality_code,
        municipality_name=row.municipality_name,
        channel=row.channel,
        started_at=row.started_at,
        last_at=row.last_at,
        user_messages=row.user_messages,
        fallbacks=row.fallbacks,
        low_confidence=row.low_confidence,
        min_confidence=row.min_confidence,
        handover_references=list(row.references),
        events=[
            ReviewEventOut(
                event_id=m.event_key,
                sender=m.sender,
                text=m.text,
                at=m.at,
                intent=m.intent,
                confidence=m.confidence,
                fallback=m.fallback,
                mark=(
                    ReviewMarkOut(
                        correct_intent=m.mark.correct_intent, reviewer=m.mark.reviewer, at=m.mark.at
                    )
                    if m.mark
                    else None
                ),
            )
            for m in messages
        ],
    )


@conversations_router.get("", response_model=ConversationReviewPage)
def list_conversations(
    session: SessionDep,
    directory: DirectoryDep,
    principal: ReviewerPrincipal,
    municipality: Annotated[str | None, Query(max_length=6)] = None,
    channel: Annotated[Channel | None, Query()] = None,
    since: date | None = None,
    until: date | None = None,
    fallback: bool | None = None,
    handover: bool | None = None,
    low_confidence: bool | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ConversationReviewPage:
    """Conversations of the municipalities the caller's organisation serves, with and without
    a handover, newest first, each with its messages redacted and the classifier's intent and
    confidence per resident message (contract v2). ``since``/``until`` are local dates, both
    included. Every conversation returned is audited as read."""
    assert principal.organisation is not None
    if since and until and since > until:
        raise HTTPException(422, "since must not be after until")
    rows, total = reviews.list_conversations(
        session,
        directory=directory,
        organisation=principal.organisation,
        filters=reviews.ConversationFilter(
            q=q,
            fallback=fallback,
            handover=handover,
            low_confidence=low_confidence,
            channel=channel,
            date_from=since,
            date_to=until,
            municipality=municipality,
        ),
        page=page,
        page_size=page_size,
    )
    items = []
    for row in rows:
        read = reviews.read_conversation(
            session, directory=directory, principal=principal, conversation_id=row.id, via="api"
        )
        items.append(_review_out(row, read[1] if read else []))
    session.commit()
    return ConversationReviewPage(items=items, total=total, page=page, page_size=page_size)


@conversations_router.post(
    "/{conversation_id}/reviews", response_model=ReviewOut, status_code=status.HTTP_201_CREATED
)
def review_message(
    conversation_id: Annotated[str, Path(min_length=1, max_length=200)],
    body: ReviewIn,
    session: SessionDep,
    directory: DirectoryDep,
    principal: ReviewerPrincipal,
) -> ReviewOut:
    """Mark one resident message as misunderstood and name the intent it meant (contract v2).
    Marking the same message again replaces the earlier mark. 404 for a conversation outside
    the caller's municipalities or an unknown ``event_id``; 422 for an unknown intent."""
    conversation = reviews.get_for_organisation(
        session,
        directory=directory,
        organisation=principal.organisation,
        conversation_id=conversation_id,
    )
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    try:
        pk = reviews.event_pk(session, conversation=conversation, event_key=body.event_id)
        mark = reviews.mark_message(
            session,
            conversation=conversation,
            event_id=pk,
            correct_intent=body.correct_intent,
            principal=principal,
        )
    except ServiceError as exc:
        session.rollback()
        raise HTTPException(exc.status_code, exc.message) from exc
    session.commit()
    return ReviewOut(
        conversation_id=conversation.id,
        event_id=body.event_id,
        verdict="misunderstood",
        correct_intent=mark.correct_intent,
        reviewer=mark.reviewer_display_name,
        at=mark.created_at,
    )
