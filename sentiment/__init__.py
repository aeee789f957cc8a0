"""Sentiment analysis of reviews (TextBlob and its language plug-ins) and language guessing."""

from sentiment.language import guess_language

__all__ = ["guess_language"]
