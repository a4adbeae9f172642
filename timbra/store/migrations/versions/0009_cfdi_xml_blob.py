"""cfdi_xml.blob: the stamped XML may live in an S3-compatible object store (TIMBRA_BLOB_URL); a row then has
the object's key instead of the bytes (exactly one of the two)

Revision ID: 0009
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cfdi_xml', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blob', sa.String(length=200), nullable=True))
        batch_op.alter_column('xml', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_check_constraint('xml_or_blob', '(xml IS NULL) <> (blob IS NULL)')


def downgrade() -> None:
    with op.batch_alter_table('cfdi_xml', schema=None) as batch_op:
        batch_op.drop_constraint('xml_or_blob', type_='check')
        batch_op.alter_column('xml', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('blob')
