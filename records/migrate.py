"""Schema creation and upgrades."""

from __future__ import annotations

from sqlalchemy import Engine

from records.models import Base


def upgrade(engine: Engine) -> None:
    Base.metadata.create_all(engine)
