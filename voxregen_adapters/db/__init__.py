"""PostgreSQL: the schema (SQLAlchemy Core, no ORM), engines, migrations and repositories."""
