"""cancellations: the requests sent to SAT (signed XML and acuse as bytes), one row per cancelled UUID with
SAT's state, the receptors' answers, and an events table (a row per state change, for webhooks)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import timbra.store.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cancel_answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('rfc_receptor', sa.String(length=13), nullable=False),
    sa.Column('respuesta', sa.String(length=12), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cancel_answers_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cancel_answers'))
    )
    with op.batch_alter_table('cancel_answers', schema=None) as batch_op:
        batch_op.create_index('ix_cancel_answers_account', ['account_id', 'id'], unique=False)

    op.create_table('cancel_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rfc_emisor', sa.String(length=13), nullable=False),
    sa.Column('signed_by', sa.String(length=8), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', timbra.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('acuse', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cancel_requests_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cancel_requests'))
    )
    with op.batch_alter_table('cancel_requests', schema=None) as batch_op:
        batch_op.create_index('ix_cancel_requests_account', ['account_id', 'id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_events_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_account', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_events_uuid', ['uuid', 'id'], unique=False)

    op.create_table('cancellations',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('motivo', sa.String(length=2), nullable=False),
    sa.Column('folio_sustitucion', sa.String(length=36), nullable=True),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('estatus', sa.String(length=32), nullable=False),
    sa.Column('requested_at', timbra.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', timbra.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cancellations_account_id_accounts')),
    sa.ForeignKeyConstraint(['request_id'], ['cancel_requests.id'],
                            name=op.f('fk_cancellations_request_id_cancel_requests')),
    sa.ForeignKeyConstraint(['uuid'], ['cfdis.uuid'], name=op.f('fk_cancellations_uuid_cfdis')),
    sa.PrimaryKeyConstraint('uuid', name=op.f('pk_cancellations'))
    )
    with op.batch_alter_table('cancellations', schema=None) as batch_op:
        batch_op.create_index('ix_cancellations_account', ['account_id', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cancellations_request_id'), ['request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cancellations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cancellations_request_id'))
        batch_op.drop_index('ix_cancellations_account')

    op.drop_table('cancellations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_uuid')
        batch_op.drop_index('ix_events_account')

    op.drop_table('events')
    with op.batch_alter_table('cancel_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_cancel_requests_account')

    op.drop_table('cancel_requests')
    with op.batch_alter_table('cancel_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_cancel_answers_account')

    op.drop_table('cancel_answers')
