"""brandings: an account's logo and accent colour for its printed CFDI (the PDF representación impresa)

Revision ID: 0006
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import timbra.store.models

revision = '0006'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('brandings',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=True),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_width', sa.Integer(), nullable=True),
    sa.Column('logo_height', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', timbra.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_brandings_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_brandings'))
    )


def downgrade() -> None:
    op.drop_table('brandings')
