"""Alembic is the only source of schema: models and migrations must agree on both engines,
and migrations go down and up again cleanly."""

from __future__ import annotations

from alembic.config import Config
from sqlalchemy import create_engine

from alembic import command
from coop.settings import ROOT


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def test_models_and_migrations_agree(db_url: str) -> None:
    command.check(_config(db_url))  # raises when autogenerate would find a difference


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    config = _config(db_url)
    command.downgrade(config, "base")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        tables = (
            conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='table'"
                if db_url.startswith("sqlite")
                else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert set(tables) <= {"alembic_version"}
    command.upgrade(config, "head")
    command.check(config)
