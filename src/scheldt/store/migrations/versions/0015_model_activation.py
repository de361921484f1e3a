"""model_activation: switching a model version live and rolling back are recorded (who, when,
why), as profile activations are; the version live now is recorded as trained at its creation.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 04:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'model_activation',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('version', sa.String(length=80), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['version'], ['model_version.version'],
                                name=op.f('fk_model_activation_version_model_version')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_model_activation')),
    )
    op.execute("INSERT INTO model_activation (target, version, action, actor, reason, at) "
               "SELECT target, version, 'train', '', 'recorded by migration 0015', created_at "
               "FROM model_version WHERE live ORDER BY created_at")


def downgrade() -> None:
    op.drop_table('model_activation')
