"""Placeholder: filled in by its part of the pages issue."""

from __future__ import annotations
