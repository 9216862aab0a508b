"""Storage: SQLAlchemy Core tables, Alembic migrations, repositories and the group-commit writer."""
