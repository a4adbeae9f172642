"""initial schema

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

import timbra.store.models

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=254), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('admin', 'distributor', 'emisor')", name=op.f('ck_accounts_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['accounts.id'], name=op.f('fk_accounts_parent_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_parent_id'), ['parent_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('done_at', timbra.store.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['done_at', 'next_attempt_at'], unique=False)

    op.create_table('account_rfcs',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rfc', sa.String(length=13), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_rfcs_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'rfc', name=op.f('pk_account_rfcs'))
    )
    op.create_table('cfdis',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.String(length=4), nullable=False),
    sa.Column('rfc_emisor', sa.String(length=13), nullable=False),
    sa.Column('rfc_receptor', sa.String(length=13), nullable=False),
    sa.Column('nombre_receptor', sa.String(length=300), nullable=False),
    sa.Column('serie', sa.String(length=25), nullable=False),
    sa.Column('folio', sa.String(length=40), nullable=False),
    sa.Column('tipo', sa.String(length=1), nullable=False),
    sa.Column('fecha', sa.String(length=19), nullable=False),
    sa.Column('fecha_timbrado', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('total', sa.Numeric(precision=24, scale=6), nullable=False),
    sa.Column('moneda', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sat_status', sa.String(length=16), nullable=False),
    sa.Column('no_certificado_sat', sa.String(length=20), nullable=False),
    sa.Column('sello_sat', sa.Text(), nullable=False),
    sa.Column('sello_digest', sa.String(length=64), nullable=False),
    sa.Column('document_digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cfdis_account_id_accounts')),
    sa.PrimaryKeyConstraint('uuid', name=op.f('pk_cfdis')),
    sa.UniqueConstraint('sello_digest', name=op.f('uq_cfdis_sello_digest'))
    )
    with op.batch_alter_table('cfdis', schema=None) as batch_op:
        batch_op.create_index('ix_cfdis_account_issued', ['account_id', 'fecha'], unique=False)
        batch_op.create_index('ix_cfdis_account_receptor', ['account_id', 'rfc_receptor'], unique=False)
        batch_op.create_index('ix_cfdis_account_stamped', ['account_id', 'fecha_timbrado', 'uuid'], unique=False)
        batch_op.create_index(batch_op.f('ix_cfdis_document_digest'), ['document_digest'], unique=False)

    op.create_table('packages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('activation', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('expiry', timbra.store.models.UTCDateTime(), nullable=True),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_packages_size_positive')),
    sa.CheckConstraint('used >= 0 AND used <= size', name=op.f('ck_packages_used_within_size')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_packages_account_id_accounts')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_packages_created_by_accounts')),
    sa.ForeignKeyConstraint(['source_id'], ['packages.id'], name=op.f('fk_packages_source_id_packages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages'))
    )
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.create_index('ix_packages_spendable', ['account_id', 'expiry', 'id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('password_changed_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_users_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_account_id'), ['account_id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', timbra.store.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_keys_account_id_accounts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)

    op.create_table('cfdi_xml',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['uuid'], ['cfdis.uuid'], name=op.f('fk_cfdi_xml_uuid_cfdis')),
    sa.PrimaryKeyConstraint('uuid', name=op.f('pk_cfdi_xml'))
    )
    op.create_table('idempotency_keys',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('document_digest', sa.String(length=64), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_idempotency_keys_account_id_accounts')),
    sa.ForeignKeyConstraint(['uuid'], ['cfdis.uuid'], name=op.f('fk_idempotency_keys_uuid_cfdis')),
    sa.PrimaryKeyConstraint('account_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('sat_acuses',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('received_at', timbra.store.models.UTCDateTime(), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['uuid'], ['cfdis.uuid'], name=op.f('fk_sat_acuses_uuid_cfdis')),
    sa.PrimaryKeyConstraint('uuid', name=op.f('pk_sat_acuses'))
    )


def downgrade() -> None:
    op.drop_table('sat_acuses')
    op.drop_table('idempotency_keys')
    op.drop_table('cfdi_xml')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_keys_account_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_account_id'))

    op.drop_table('users')
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_index('ix_packages_spendable')

    op.drop_table('packages')
    with op.batch_alter_table('cfdis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cfdis_document_digest'))
        batch_op.drop_index('ix_cfdis_account_stamped')
        batch_op.drop_index('ix_cfdis_account_receptor')
        batch_op.drop_index('ix_cfdis_account_issued')

    op.drop_table('cfdis')
    op.drop_table('account_rfcs')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_parent_id'))

    op.drop_table('accounts')
