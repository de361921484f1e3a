"""Scheldt as a service: organisations, users, credentials, the container-trip read model, scanners,
scan orders and their changes, holds, the hash-chained audit log and job runs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:06:25.677381
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('payload_digest', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)

    op.create_table('container_trip',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('container_number', sa.String(length=64), nullable=False),
    sa.Column('document_ref', sa.String(length=128), nullable=False),
    sa.Column('voyage', sa.String(length=64), nullable=False),
    sa.Column('carrier_code', sa.String(length=64), nullable=False),
    sa.Column('terminal_code', sa.String(length=64), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('port_of_loading', sa.String(length=64), nullable=False),
    sa.Column('port_of_discharge', sa.String(length=64), nullable=False),
    sa.Column('vessel_imo', sa.String(length=64), nullable=False),
    sa.Column('arrival_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('risk_band', sa.String(length=8), nullable=False),
    sa.Column('top_reason', sa.Text(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('on_hold', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_container_trip')),
    sa.UniqueConstraint('container_number', 'document_ref', 'voyage', name=op.f('uq_container_trip_container_number'))
    )
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.create_index('ix_container_trip_agency', ['supplied_by', 'score', 'id'], unique=False)
        batch_op.create_index('ix_container_trip_carrier', ['carrier_code', 'score', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_container_trip_container_number'), ['container_number'], unique=False)
        batch_op.create_index('ix_container_trip_queue', ['score', 'id'], unique=False)
        batch_op.create_index('ix_container_trip_terminal', ['terminal_code', 'score', 'id'], unique=False)

    op.create_table('job_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_created_at'), ['created_at'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('carrier_codes', sa.JSON(), nullable=False),
    sa.Column('terminal_codes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation'))
    )
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_app_user_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('hold',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('trip_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_hold_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['trip_id'], ['container_trip.id'], name=op.f('fk_hold_trip_id_container_trip')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hold'))
    )
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hold_trip_id'), ['trip_id'], unique=False)

    op.create_table('scanner',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('capacity_per_shift', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_scanner_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scanner'))
    )
    op.create_table('credential',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_credential_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_credential_secret_hash'))
    )
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_user_id'), ['user_id'], unique=False)

    op.create_table('scan_order',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('trip_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('scanner_id', sa.String(length=64), nullable=False),
    sa.Column('shift_date', sa.String(length=10), nullable=False),
    sa.Column('shift', sa.String(length=8), nullable=False),
    sa.Column('selection', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score_at_planning', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('nii_image_ref', sa.String(length=200), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('drug_type', sa.String(length=32), nullable=False),
    sa.Column('mass_kg', sa.Float(), nullable=True),
    sa.Column('concealment', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_scan_order_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['scanner_id'], ['scanner.id'], name=op.f('fk_scan_order_scanner_id_scanner')),
    sa.ForeignKeyConstraint(['trip_id'], ['container_trip.id'], name=op.f('fk_scan_order_trip_id_container_trip')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_order'))
    )
    with op.batch_alter_table('scan_order', schema=None) as batch_op:
        batch_op.create_index('ix_scan_order_slot', ['scanner_id', 'shift_date', 'shift'], unique=False)
        batch_op.create_index('ix_scan_order_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_scan_order_trip', ['trip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_order_updated_at'), ['updated_at'], unique=False)

    op.create_table('scan_order_change',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['scan_order.id'], name=op.f('fk_scan_order_change_order_id_scan_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_order_change'))
    )
    with op.batch_alter_table('scan_order_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_order_change_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scan_order_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_order_change_order_id'))

    op.drop_table('scan_order_change')
    with op.batch_alter_table('scan_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_order_updated_at'))
        batch_op.drop_index('ix_scan_order_trip')
        batch_op.drop_index('ix_scan_order_status')
        batch_op.drop_index('ix_scan_order_slot')

    op.drop_table('scan_order')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_user_id'))

    op.drop_table('credential')
    op.drop_table('scanner')
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hold_trip_id'))

    op.drop_table('hold')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_organisation_id'))

    op.drop_table('app_user')
    op.drop_table('organisation')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_created_at'))

    op.drop_table('job_run')
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.drop_index('ix_container_trip_terminal')
        batch_op.drop_index('ix_container_trip_queue')
        batch_op.drop_index(batch_op.f('ix_container_trip_container_number'))
        batch_op.drop_index('ix_container_trip_carrier')
        batch_op.drop_index('ix_container_trip_agency')

    op.drop_table('container_trip')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))

    op.drop_table('audit_entry')
