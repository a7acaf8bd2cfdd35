"""Accounts a care network can run: one-time codes, platform settings, two-factor sign-in, last active day,
the actor's role in the audit log and the indexes its page reads by.

Revision ID: 0007_accounts
Revises: 0006_calendar_alarm
Create Date: 2026-12-02 10:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_accounts'
down_revision = '0006_calendar_alarm'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('activation', 'reset', 'recovery', 'backup', name='codekind',
                                  native_enum=False, create_constraint=False, length=20), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_codes_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_account_codes_code_hash')),
    )
    op.create_index('ix_account_codes_user_kind', 'account_codes', ['user_id', 'kind'], unique=False)
    op.create_table(
        'platform_settings',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_platform_settings_updated_by_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_platform_settings')),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_active_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_last_active_at'), ['last_active_at'], unique=False)
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_role', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_moderation_actions_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_moderation_actions_target', ['target_type', 'target_id'], unique=False)


def downgrade():
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_actions_target')
        batch_op.drop_index('ix_moderation_actions_created_at')
        batch_op.drop_column('actor_role')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_last_active_at'))
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('last_active_at')
    op.drop_table('platform_settings')
    op.drop_index('ix_account_codes_user_kind', table_name='account_codes')
    op.drop_table('account_codes')
