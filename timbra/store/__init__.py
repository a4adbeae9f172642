"""Storage: the database (SQLAlchemy, SQLite or PostgreSQL), its Alembic migrations, and repositories."""
