"""Loopback servers that speak each platform's wire protocol, for tests, demos and benchmarks.

Each sandbox is pure Python (no Django), binds 127.0.0.1 only and is as strict as the platform it
imitates, so a connector that passes against it has exercised the real failure modes.
"""
