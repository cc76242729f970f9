"""extension_request.status may be 'withdrawn': the certifier takes back a request still pending

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:20:00

"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _status_check(statuses: tuple[str, ...]) -> str:
    return f"status IN ({', '.join(repr(s) for s in statuses)})"


def upgrade():
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', _status_check(('pending', 'approved', 'denied', 'withdrawn')))


def downgrade():
    op.execute("UPDATE extension_request SET status = 'denied' WHERE status = 'withdrawn'")
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', _status_check(('pending', 'approved', 'denied')))
