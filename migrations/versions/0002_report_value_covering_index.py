"""report_value: a covering index for roll-up reads instead of the plain version_id index

Roll-ups read each counted version's valid values (version_id, measure, dimension, category,
valid, value); with every one of those columns in the index, the database reads no table row per
value. The index starts with version_id, so it also serves the foreign key's lookups, and the
version_id-only index it replaces is dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:40:00

"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = ['version_id', 'measure_code', 'dimension', 'category', 'valid', 'value']


def upgrade():
    with op.batch_alter_table('report_value', schema=None) as batch_op:
        batch_op.create_index('ix_report_value_version_cells', COLUMNS, unique=False)
        batch_op.drop_index('ix_report_value_version_id')


def downgrade():
    with op.batch_alter_table('report_value', schema=None) as batch_op:
        batch_op.create_index('ix_report_value_version_id', ['version_id'], unique=False)
        batch_op.drop_index('ix_report_value_version_cells')
