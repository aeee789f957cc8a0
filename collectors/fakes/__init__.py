"""Fake platform servers (real HTTP on 127.0.0.1) for the tests, the benchmark and the demo."""
