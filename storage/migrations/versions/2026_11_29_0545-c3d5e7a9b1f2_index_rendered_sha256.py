"""index documents by their rendered PDF's SHA-256

Revision ID: c3d5e7a9b1f2
Revises: 89c84e00ea25
Create Date: 2026-11-29 05:45:00

Upload verification finds a document by hashing the part of the PDF before its first signature
(service/verification/upload.py); without an index that is a scan of every document ever issued.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c3d5e7a9b1f2"
down_revision: str | None = "89c84e00ea25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_rendered_sha256"), ["rendered_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_rendered_sha256"))
