"""csd vault: the emisores' CSD for conexión remota, private keys encrypted under a master key

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import timbra.store.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('csd_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rfc', sa.String(length=13), nullable=False),
    sa.Column('no_certificado', sa.String(length=20), nullable=False),
    sa.Column('certificate', sa.LargeBinary(), nullable=False),
    sa.Column('key_nonce', sa.LargeBinary(), nullable=False),
    sa.Column('key_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('master_key_id', sa.String(length=32), nullable=False),
    sa.Column('valid_from', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('valid_to', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('removed_at', timbra.store.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_csd_keys_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csd_keys')),
    sa.UniqueConstraint('account_id', 'no_certificado', name=op.f('uq_csd_keys_account_id_no_certificado'))
    )
    with op.batch_alter_table('csd_keys', schema=None) as batch_op:
        # one active CSD per account and RFC (a partial unique index, on SQLite as on PostgreSQL)
        batch_op.create_index('ix_csd_keys_active_rfc', ['account_id', 'rfc'], unique=True,
                              sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))


def downgrade() -> None:
    with op.batch_alter_table('csd_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_csd_keys_active_rfc')

    op.drop_table('csd_keys')
