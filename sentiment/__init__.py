"""Sentiment analysis of reviews (lexicons from TextBlob and its language plug-ins, our rules, a small model)."""

from sentiment.analyzer import VERSION, Analysis, Analyzer, analyze, analyze_review
from sentiment.language import detect_language, guess_language

__all__ = ["VERSION", "Analysis", "Analyzer", "analyze", "analyze_review", "detect_language", "guess_language"]
