"""Initial schema: every table of trucewatch.store.schema, plus SQLite R*Trees
or PostGIS point columns with GiST indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

from trucewatch.store.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, checkfirst=True)
    if bind.dialect.name == "sqlite":
        for name in ("obs_rtree", "viol_rtree"):
            op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING rtree(id, min_lon, max_lon, min_lat, max_lat)")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        for table in ("observations", "violations"):
            op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS geom geometry(Point, 4326) "
                       "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED")
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_geom ON {table} USING GIST (geom)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS obs_rtree")
        op.execute("DROP TABLE IF EXISTS viol_rtree")
    metadata.drop_all(bind)
