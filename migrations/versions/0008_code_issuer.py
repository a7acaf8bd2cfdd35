"""Who issued a one-time code (a reset code's issuer must still be allowed to give it when it is used); None for
codes a person makes for themselves and for the CLI's (an operator on the server).

Revision ID: 0008_code_issuer
Revises: 0007_accounts
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_code_issuer'
down_revision = '0007_accounts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_account_codes_issued_by_user_id'), ['issued_by_user_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_account_codes_issued_by_user_id_users'), 'users', ['issued_by_user_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('account_codes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_account_codes_issued_by_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_account_codes_issued_by_user_id'))
        batch_op.drop_column('issued_by_user_id')
