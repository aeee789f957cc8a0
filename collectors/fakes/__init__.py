"""Fake review platforms: real HTTP servers on 127.0.0.1 for the tests, the benchmark and the demo."""
