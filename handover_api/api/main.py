"""The /api/v1 router."""

from fastapi import APIRouter

from handover_api.api.routes import (
    audit,
    conversations,
    handovers,
    messages,
    reviews,
    stats,
    twilio_status,
    webchat,
)

api_router = APIRouter()
api_router.include_router(handovers.router)
api_router.include_router(conversations.router)
api_router.include_router(audit.router)
api_router.include_router(reviews.router)
api_router.include_router(reviews.conversations_router)
api_router.include_router(stats.router)
api_router.include_router(messages.router)
api_router.include_router(messages.inbound_router)
api_router.include_router(twilio_status.router)
api_router.include_router(webchat.router)
