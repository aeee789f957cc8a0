"""Admin route that analyses a text on request: what ingest would store for it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from reviews_service.api.deps import AdminDep, json_response
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers
from sentiment import analyze

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
MAX_TEXT = 20_000  # characters: a review's longest text at ingest (normalize's max_text)
ANALYSIS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["polarity", "label", "language", "aspects", "version", "analysed"],
    "properties": {
        "polarity": {"type": "number", "minimum": -1, "maximum": 1},
        "label": {"enum": ["negative", "neutral", "positive"]},
        "language": {"type": ["string", "null"], "description": "ISO 639-1, detected unless given"},
        "aspects": {"type": "array", "items": {"type": "string"}},
        "version": {"type": "string", "description": "the analyser's version"},
        "analysed": {"type": "boolean", "description": "false: a language we do not analyse (label says nothing)"},
    },
}


class SentimentIn(BaseModel):
    """A text to analyse."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_TEXT)
    language: str | None = Field(
        None, pattern="^[a-z]{2}$", description="ISO 639-1; nl/en/de/fr are used as given, others only as a hint"
    )


@router.post("/sentiment", **answers(JSON, *ADMIN_ERRORS, 400, 413, 415, 422, schema=ANALYSIS_SCHEMA))
def analyse_text(body: SentimentIn, principal: AdminDep) -> Response:
    """Polarity, label, language and complaint aspects of a text, as ingest would store them."""
    result = analyze(body.text, body.language)
    return json_response(
        {
            "polarity": result.polarity,
            "label": result.label,
            "language": result.language,
            "aspects": list(result.aspects),
            "version": result.version,
            "analysed": result.analysed,
        }
    )
