"""report_value.cell: each value's cell key, stored with the row and carried by the covering index

Roll-ups group values by cell and name them by key (grants.measures.cell_key: the measure code
for a total, else code.dimension.category). Building that key from three columns for each of
tens of thousands of values, and grouping by three text columns, was most of their reads' time.
The key is written with the row (the model's default) and a check constraint refuses any other
text, so it cannot disagree with the three columns it is made of. (A generated column would do
the same, but SQLite then reads no index as covering: every value would cost a table lookup.)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CELL_KEY_SQL = "CASE WHEN dimension = '' THEN measure_code ELSE measure_code || '.' || dimension || '.' || category END"
OLD_COLUMNS = ['version_id', 'measure_code', 'dimension', 'category', 'valid', 'value']


def upgrade():
    with op.batch_alter_table('report_value', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cell', sa.String(length=82), nullable=True))
    op.execute(f"UPDATE report_value SET cell = {CELL_KEY_SQL}")
    with op.batch_alter_table('report_value', schema=None) as batch_op:
        batch_op.alter_column('cell', existing_type=sa.String(length=82), nullable=False)
        batch_op.create_check_constraint('cell', f"cell = {CELL_KEY_SQL}")
        batch_op.drop_index('ix_report_value_version_cells')
        batch_op.create_index('ix_report_value_version_cells', [*OLD_COLUMNS, 'cell'], unique=False)


def downgrade():
    with op.batch_alter_table('report_value', schema=None) as batch_op:
        batch_op.drop_index('ix_report_value_version_cells')
        batch_op.drop_constraint('cell', type_='check')
        batch_op.drop_column('cell')
        batch_op.create_index('ix_report_value_version_cells', OLD_COLUMNS, unique=False)
