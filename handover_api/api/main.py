"""The /api/v1 router."""

from fastapi import APIRouter

from handover_api.api.routes import audit, conversations, handovers, reviews, stats

api_router = APIRouter()
api_router.include_router(handovers.router)
api_router.include_router(conversations.router)
api_router.include_router(audit.router)
api_router.include_router(reviews.router)
api_router.include_router(reviews.conversations_router)
api_router.include_router(stats.router)
