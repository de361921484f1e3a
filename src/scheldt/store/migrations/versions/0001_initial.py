"""Initial schema: declarations, parties, outcomes, quarantine, model versions, risk assessments.

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 12:23:15.558255
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('declaration',
    sa.Column('declaration_ref', sa.String(length=64), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hs_code', sa.String(length=10), nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=False),
    sa.Column('departure_country', sa.String(length=2), nullable=False),
    sa.Column('net_mass_kg', sa.Float(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('office_code', sa.String(length=32), nullable=False),
    sa.Column('process_type', sa.String(length=32), nullable=False),
    sa.Column('import_type', sa.String(length=32), nullable=False),
    sa.Column('import_use', sa.String(length=32), nullable=False),
    sa.Column('payment_type', sa.String(length=32), nullable=False),
    sa.Column('transport_mode', sa.String(length=32), nullable=False),
    sa.Column('tax_rate_pct', sa.Float(), nullable=True),
    sa.Column('tax_type', sa.String(length=32), nullable=False),
    sa.Column('origin_indicator', sa.String(length=32), nullable=False),
    sa.Column('bill_of_lading_ref', sa.String(length=64), nullable=False),
    sa.Column('container_numbers', sa.Text(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('declaration_ref', name=op.f('pk_declaration'))
    )
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_bill_of_lading_ref'), ['bill_of_lading_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_declaration_filed_at'), ['filed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_declaration_hs_code'), ['hs_code'], unique=False)

    op.create_table('model_version',
    sa.Column('version', sa.String(length=80), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('artefact_path', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('feature_contract', sa.String(length=64), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_model_version'))
    )
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_quarantine_fingerprint'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_received_at'), ['received_at'], unique=False)

    op.create_table('declaration_party',
    sa.Column('declaration_ref', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['declaration_ref'], ['declaration.declaration_ref'], name=op.f('fk_declaration_party_declaration_ref_declaration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('declaration_ref', 'role', name=op.f('pk_declaration_party'))
    )
    with op.batch_alter_table('declaration_party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_party_party_id'), ['party_id'], unique=False)

    op.create_table('inspection_outcome',
    sa.Column('declaration_ref', sa.String(length=64), nullable=False),
    sa.Column('fraud', sa.Boolean(), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_ref'], ['declaration.declaration_ref'], name=op.f('fk_inspection_outcome_declaration_ref_declaration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('declaration_ref', name=op.f('pk_inspection_outcome'))
    )
    with op.batch_alter_table('inspection_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_outcome_received_at'), ['received_at'], unique=False)

    op.create_table('risk_assessment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('declaration_ref', sa.String(length=64), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_ref'], ['declaration.declaration_ref'], name=op.f('fk_risk_assessment_declaration_ref_declaration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_version'], ['model_version.version'], name=op.f('fk_risk_assessment_model_version_model_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessment')),
    sa.UniqueConstraint('declaration_ref', 'model_version', name=op.f('uq_risk_assessment_declaration_ref'))
    )
    with op.batch_alter_table('risk_assessment', schema=None) as batch_op:
        batch_op.create_index('ix_risk_assessment_run', ['run_id', 'rank'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_assessment_scored_at'), ['scored_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_assessment_scored_at'))
        batch_op.drop_index('ix_risk_assessment_run')

    op.drop_table('risk_assessment')
    with op.batch_alter_table('inspection_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_outcome_received_at'))

    op.drop_table('inspection_outcome')
    with op.batch_alter_table('declaration_party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_party_party_id'))

    op.drop_table('declaration_party')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_received_at'))

    op.drop_table('quarantine')
    op.drop_table('model_version')
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_hs_code'))
        batch_op.drop_index(batch_op.f('ix_declaration_filed_at'))
        batch_op.drop_index(batch_op.f('ix_declaration_bill_of_lading_ref'))

    op.drop_table('declaration')
