"""The only package that imports SQLAlchemy: ORM models, repositories, migrations."""
