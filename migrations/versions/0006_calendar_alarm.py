"""A reminder (VALARM) in calendar files, chosen per account.

Revision ID: 0006_calendar_alarm
Revises: 0005_series_horizon
Create Date: 2026-12-02 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_calendar_alarm'
down_revision = '0005_series_horizon'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_alarm_minutes', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('calendar_alarm_minutes')
