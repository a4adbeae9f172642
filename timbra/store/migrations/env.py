"""Alembic environment: runs on the engine timbra hands over (Database.upgrade), or on TIMBRA_DATABASE_URL."""
from alembic import context
from sqlalchemy import create_engine

from timbra.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line
    from timbra.settings import Settings

    engine = create_engine(Settings.from_env().database_url)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
