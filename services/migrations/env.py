"""Alembic environment: migrations run on the connection Database.migrate() hands over."""

from alembic import context

from services.storage import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `nobat migrate` (Database.migrate), which passes a connection")

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
