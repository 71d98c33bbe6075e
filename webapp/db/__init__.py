"""Database: ORM models, the advanced-alchemy configuration and migrations."""
