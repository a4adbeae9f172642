"""account_rfcs: the name SAT registers for the RFC (nombre), and one owner account per RFC

An RFC belongs to one account: a partial unique index allows one row per RFC that is not `shared` (only the
PAC admin adds an RFC another account holds, as a shared row). Rows that already repeat an RFC are kept:
the account that has held it longest (lowest id) stays its owner, the others are marked shared.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account_rfcs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nombre', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('shared', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE account_rfcs SET shared = :shared WHERE EXISTS (SELECT 1 FROM account_rfcs AS o "
                       "WHERE o.rfc = account_rfcs.rfc AND o.account_id < account_rfcs.account_id)")
               .bindparams(shared=True))
    with op.batch_alter_table('account_rfcs', schema=None) as batch_op:
        batch_op.create_index('ix_account_rfcs_owner', ['rfc'], unique=True,
                              sqlite_where=sa.text('NOT shared'), postgresql_where=sa.text('NOT shared'))


def downgrade() -> None:
    with op.batch_alter_table('account_rfcs', schema=None) as batch_op:
        batch_op.drop_index('ix_account_rfcs_owner')
        batch_op.drop_column('shared')
        batch_op.drop_column('nombre')
