"""Risk profiles (versions, activations), trip assessments with their facts, parties per document for party history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:13:13.721493
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_profile',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_profile')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_risk_profile_name'))
    )
    op.create_table('trip_assessment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('container_number', sa.String(length=64), nullable=False),
    sa.Column('document_ref', sa.String(length=128), nullable=False),
    sa.Column('voyage', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.String(length=100), nullable=False),
    sa.Column('model_version', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('profile_points', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('facts_hash', sa.String(length=64), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_assessment')),
    sa.UniqueConstraint('container_number', 'document_ref', 'voyage', 'profile', 'model_version', 'facts_hash', name=op.f('uq_trip_assessment_container_number'))
    )
    with op.batch_alter_table('trip_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trip_assessment_scored_at'), ['scored_at'], unique=False)
        batch_op.create_index('ix_trip_assessment_trip', ['container_number', 'document_ref', 'voyage', 'scored_at'], unique=False)

    op.create_table('profile_activation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['risk_profile.id'], name=op.f('fk_profile_activation_profile_id_risk_profile')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_activation'))
    )
    op.create_table('document_party',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('document_ref', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('name_key', sa.String(length=256), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['transport_document.id'], name=op.f('fk_document_party_document_id_transport_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_party'))
    )
    with op.batch_alter_table('document_party', schema=None) as batch_op:
        batch_op.create_index('ix_document_party_name', ['role', 'name_key', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_table('document_party')
    op.drop_table('profile_activation')
    with op.batch_alter_table('trip_assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_trip_assessment_trip')
        batch_op.drop_index(batch_op.f('ix_trip_assessment_scored_at'))

    op.drop_table('trip_assessment')
    op.drop_table('risk_profile')
