"""Alembic: ``upgrade head`` on an empty database matches the models exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from handover_api.cli import ALEMBIC_INI
from handover_api.core.db import make_engine
from handover_api.models import Base


def _config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    base = make_url(request.getfixturevalue("pg_server_url"))
    name = f"{base.database}_migrations"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_head_has_no_diff_against_models(empty_db_url: str) -> None:
    command.upgrade(_config(empty_db_url), "head")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert set(inspect(conn).get_table_names()) == set(Base.metadata.tables) | {
                "alembic_version"
            }
            head = ScriptDirectory.from_config(_config(empty_db_url)).get_current_head()
            assert context.get_current_revision() == head
    finally:
        engine.dispose()


def test_downgrade_base_removes_everything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.sqlite3'}"
    command.upgrade(_config(url), "head")
    command.downgrade(_config(url), "base")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
