"""organization, community, grant_award, program, measure_definition: a lock_version column, so an
admin's edit made on an out-of-date page is refused instead of overwriting someone else's

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('organization', 'community', 'grant_award', 'program', 'measure_definition')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('lock_version')
