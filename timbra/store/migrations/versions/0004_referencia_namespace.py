"""referencia keys apart from clients' Idempotency-Keys: "referencia:X" becomes "referencia X"

POST /v1/issue kept its referencia as the idempotency key "referencia:<referencia>", which a client could
also send as an Idempotency-Key to POST /v1/stamp (the two then answered each other's CFDI). A client's key
is 1-255 visible ASCII characters, never a space: "referencia <referencia>" cannot be one. Rows written
before are taken as referencias (what timbra wrote them for).

Revision ID: 0004
Revises: 0002
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE idempotency_keys SET key = 'referencia ' || substr(key, 12) WHERE key LIKE 'referencia:%'")


def downgrade() -> None:
    op.execute("UPDATE idempotency_keys SET key = 'referencia:' || substr(key, 12) WHERE key LIKE 'referencia %'")
