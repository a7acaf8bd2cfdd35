"""Open-ended series remember how far ahead their meetings are planned (the rolling horizon).

Existing series keep NULL: the horizon job then counts from the date of their latest meeting.

Revision ID: 0005_series_horizon
Revises: 0004
Create Date: 2026-12-02 06:31:58.547675

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_series_horizon'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('materialised_until', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('meeting_series', schema=None) as batch_op:
        batch_op.drop_column('materialised_until')

