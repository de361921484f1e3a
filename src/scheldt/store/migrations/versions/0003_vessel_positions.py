"""AIS: vessel positions and static sightings (MMSI, IMO, call sign, name).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:15:10.432342
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vessel_position',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('fact_key', sa.String(length=64), nullable=False),
    sa.Column('mmsi', sa.String(length=16), nullable=False),
    sa.Column('vessel_id', sa.String(length=64), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('speed_knots', sa.Float(), nullable=True),
    sa.Column('course_deg', sa.Float(), nullable=True),
    sa.Column('heading_deg', sa.Float(), nullable=True),
    sa.Column('nav_status', sa.String(length=64), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vessel_position')),
    sa.UniqueConstraint('supplied_by', 'fact_key', name=op.f('uq_vessel_position_supplied_by'))
    )
    with op.batch_alter_table('vessel_position', schema=None) as batch_op:
        batch_op.create_index('ix_vessel_position_mmsi_time', ['mmsi', 'observed_at'], unique=False)

    op.create_table('vessel_sighting',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('mmsi', sa.String(length=16), nullable=False),
    sa.Column('imo', sa.String(length=64), nullable=False),
    sa.Column('call_sign', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vessel_sighting')),
    sa.UniqueConstraint('supplied_by', 'mmsi', 'imo', 'call_sign', 'name', name=op.f('uq_vessel_sighting_supplied_by'))
    )
    with op.batch_alter_table('vessel_sighting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vessel_sighting_imo'), ['imo'], unique=False)
        batch_op.create_index(batch_op.f('ix_vessel_sighting_mmsi'), ['mmsi'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vessel_sighting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vessel_sighting_mmsi'))
        batch_op.drop_index(batch_op.f('ix_vessel_sighting_imo'))

    op.drop_table('vessel_sighting')
    with op.batch_alter_table('vessel_position', schema=None) as batch_op:
        batch_op.drop_index('ix_vessel_position_mmsi_time')

    op.drop_table('vessel_position')
