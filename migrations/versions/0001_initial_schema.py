"""Initial schema: every table of the product, with checks and lookup indexes.

Read and edited by hand after autogenerate; storage triggers follow in 0002.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 10:44:37.865502
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('profiles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('phone_number', sa.String(length=16), nullable=True),
    sa.Column('phone_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('storage_used', sa.BigInteger(), nullable=False),
    sa.Column('storage_limit', sa.BigInteger(), nullable=False),
    sa.Column('purchased_sms_credits', sa.Integer(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_subscription_id', sa.String(length=255), nullable=True),
    sa.Column('subscription_status', sa.String(length=32), nullable=True),
    sa.Column('trial_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('phone_prompt_dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("subscription_status IS NULL OR subscription_status IN ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')", name=op.f('ck_profiles_subscription_status_valid')),
    sa.CheckConstraint("tier IN ('free', 'band', 'producer')", name=op.f('ck_profiles_tier_valid')),
    sa.CheckConstraint('purchased_sms_credits >= 0', name=op.f('ck_profiles_purchased_credits_non_negative')),
    sa.CheckConstraint('storage_limit >= 0', name=op.f('ck_profiles_storage_limit_non_negative')),
    sa.CheckConstraint('storage_used >= 0', name=op.f('ck_profiles_storage_used_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('email', name=op.f('uq_profiles_email')),
    sa.UniqueConstraint('phone_number', name=op.f('uq_profiles_phone_number')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_profiles_stripe_customer_id')),
    sa.UniqueConstraint('stripe_subscription_id', name=op.f('uq_profiles_stripe_subscription_id'))
    )
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    op.create_table('admin_actions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('admin_id', sa.Uuid(), nullable=True),
    sa.Column('target_profile_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['profiles.id'], name=op.f('fk_admin_actions_admin_id_profiles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_profile_id'], ['profiles.id'], name=op.f('fk_admin_actions_target_profile_id_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_actions'))
    )
    with op.batch_alter_table('admin_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_actions_target_profile_id'), ['target_profile_id'], unique=False)

    op.create_table('bands',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('storage_used', sa.BigInteger(), nullable=False),
    sa.Column('storage_limit', sa.BigInteger(), nullable=False),
    sa.Column('max_members', sa.Integer(), nullable=False),
    sa.Column('read_only', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_members >= 1', name=op.f('ck_bands_max_members_positive')),
    sa.CheckConstraint('storage_limit >= 0', name=op.f('ck_bands_storage_limit_non_negative')),
    sa.CheckConstraint('storage_used >= 0', name=op.f('ck_bands_storage_used_non_negative')),
    sa.ForeignKeyConstraint(['created_by'], ['profiles.id'], name=op.f('fk_bands_created_by_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bands'))
    )
    with op.batch_alter_table('bands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bands_created_by'), ['created_by'], unique=False)

    op.create_table('login_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('remember', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_login_sessions_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_profile_id'), ['profile_id'], unique=False)

    op.create_table('phone_verifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=True),
    sa.Column('phone_blind_index', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_phone_verifications_attempts_non_negative')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_phone_verifications_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_verifications'))
    )
    with op.batch_alter_table('phone_verifications', schema=None) as batch_op:
        batch_op.create_index('ix_phone_verifications_phone_sent', ['phone_blind_index', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_verifications_profile_id'), ['profile_id'], unique=False)

    op.create_table('producer_waitlist',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_producer_waitlist_profile_id_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_producer_waitlist')),
    sa.UniqueConstraint('email', name=op.f('uq_producer_waitlist_email'))
    )
    op.create_table('sms_credit_purchases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('pack', sa.String(length=16), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('stripe_checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('credits > 0', name=op.f('ck_sms_credit_purchases_credits_positive')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_sms_credit_purchases_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_credit_purchases')),
    sa.UniqueConstraint('stripe_checkout_session_id', name=op.f('uq_sms_credit_purchases_stripe_checkout_session_id'))
    )
    with op.batch_alter_table('sms_credit_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_credit_purchases_profile_id'), ['profile_id'], unique=False)

    op.create_table('sms_credits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('credits_total', sa.Integer(), nullable=False),
    sa.Column('credits_used', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('credits_total >= 0', name=op.f('ck_sms_credits_credits_total_non_negative')),
    sa.CheckConstraint('credits_used >= 0 AND credits_used <= credits_total', name=op.f('ck_sms_credits_credits_used_in_range')),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_sms_credits_period_ordered')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_sms_credits_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_credits')),
    sa.UniqueConstraint('profile_id', 'period_start', name='uq_sms_credits_profile_period')
    )
    with op.batch_alter_table('sms_credits', schema=None) as batch_op:
        batch_op.create_index('ix_sms_credits_profile_period_end', ['profile_id', 'period_end'], unique=False)

    op.create_table('band_invites',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('band_id', sa.Uuid(), nullable=False),
    sa.Column('invited_by', sa.Uuid(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone_blind_index', sa.String(length=64), nullable=True),
    sa.Column('phone_encrypted', sa.String(length=512), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'admin', 'member')", name=op.f('ck_band_invites_role_valid')),
    sa.CheckConstraint('email IS NOT NULL OR phone_blind_index IS NOT NULL', name=op.f('ck_band_invites_has_recipient')),
    sa.ForeignKeyConstraint(['accepted_by'], ['profiles.id'], name=op.f('fk_band_invites_accepted_by_profiles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['band_id'], ['bands.id'], name=op.f('fk_band_invites_band_id_bands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['profiles.id'], name=op.f('fk_band_invites_invited_by_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_band_invites')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_band_invites_token_hash'))
    )
    with op.batch_alter_table('band_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_band_invites_band_id'), ['band_id'], unique=False)

    op.create_table('band_members',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('band_id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'admin', 'member')", name=op.f('ck_band_members_role_valid')),
    sa.ForeignKeyConstraint(['band_id'], ['bands.id'], name=op.f('fk_band_members_band_id_bands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_band_members_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_band_members')),
    sa.UniqueConstraint('band_id', 'profile_id', name='uq_band_members_band_profile')
    )
    with op.batch_alter_table('band_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_band_members_profile_id'), ['profile_id'], unique=False)

    op.create_table('playlists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('band_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['band_id'], ['bands.id'], name=op.f('fk_playlists_band_id_bands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['profiles.id'], name=op.f('fk_playlists_created_by_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlists'))
    )
    with op.batch_alter_table('playlists', schema=None) as batch_op:
        batch_op.create_index('ix_playlists_band_created', ['band_id', 'created_at'], unique=False)
        batch_op.create_index('ix_playlists_owner_band_created', ['created_by', 'band_id', 'created_at'], unique=False)

    op.create_table('tracks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('band_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_seconds IS NULL OR duration_seconds >= 0', name=op.f('ck_tracks_duration_non_negative')),
    sa.CheckConstraint('file_size >= 0', name=op.f('ck_tracks_file_size_non_negative')),
    sa.ForeignKeyConstraint(['band_id'], ['bands.id'], name=op.f('fk_tracks_band_id_bands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['profiles.id'], name=op.f('fk_tracks_created_by_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracks')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_tracks_storage_key'))
    )
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.create_index('ix_tracks_band_created', ['band_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tracks_owner_band_created', ['created_by', 'band_id', 'created_at'], unique=False)

    op.create_table('playlist_tracks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('playlist_id', sa.Uuid(), nullable=False),
    sa.Column('track_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.Uuid(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('position >= 0', name=op.f('ck_playlist_tracks_position_non_negative')),
    sa.ForeignKeyConstraint(['added_by'], ['profiles.id'], name=op.f('fk_playlist_tracks_added_by_profiles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['playlist_id'], ['playlists.id'], name=op.f('fk_playlist_tracks_playlist_id_playlists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_playlist_tracks_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlist_tracks')),
    sa.UniqueConstraint('playlist_id', 'track_id', name='uq_playlist_tracks_playlist_track')
    )
    with op.batch_alter_table('playlist_tracks', schema=None) as batch_op:
        batch_op.create_index('ix_playlist_tracks_playlist_position', ['playlist_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_playlist_tracks_track_id'), ['track_id'], unique=False)

    op.create_table('shared_playlists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('playlist_id', sa.Uuid(), nullable=False),
    sa.Column('shared_by', sa.Uuid(), nullable=False),
    sa.Column('share_token', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('total_access_grants', sa.Integer(), nullable=False),
    sa.Column('total_plays', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('failed_attempts >= 0', name=op.f('ck_shared_playlists_failed_attempts_non_negative')),
    sa.CheckConstraint('total_access_grants >= 0', name=op.f('ck_shared_playlists_total_access_grants_non_negative')),
    sa.CheckConstraint('total_plays >= 0', name=op.f('ck_shared_playlists_total_plays_non_negative')),
    sa.ForeignKeyConstraint(['playlist_id'], ['playlists.id'], name=op.f('fk_shared_playlists_playlist_id_playlists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shared_by'], ['profiles.id'], name=op.f('fk_shared_playlists_shared_by_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_playlists')),
    sa.UniqueConstraint('share_token', name=op.f('uq_shared_playlists_share_token'))
    )
    with op.batch_alter_table('shared_playlists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_playlists_playlist_id'), ['playlist_id'], unique=False)
        batch_op.create_index('ix_shared_playlists_sharer_active', ['shared_by', 'is_active'], unique=False)

    op.create_table('playlist_access_grants',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('shared_playlist_id', sa.Uuid(), nullable=False),
    sa.Column('phone_blind_index', sa.String(length=64), nullable=False),
    sa.Column('phone_encrypted', sa.String(length=512), nullable=False),
    sa.Column('recipient_label', sa.String(length=80), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_revoked', sa.Boolean(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_used', sa.Boolean(), nullable=False),
    sa.Column('first_accessed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_accessed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('access_count', sa.Integer(), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('claimed_by', sa.Uuid(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('access_count >= 0', name=op.f('ck_playlist_access_grants_access_count_non_negative')),
    sa.ForeignKeyConstraint(['claimed_by'], ['profiles.id'], name=op.f('fk_playlist_access_grants_claimed_by_profiles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shared_playlist_id'], ['shared_playlists.id'], name=op.f('fk_playlist_access_grants_shared_playlist_id_shared_playlists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlist_access_grants')),
    sa.UniqueConstraint('shared_playlist_id', 'phone_blind_index', name='uq_playlist_access_grants_share_phone')
    )
    with op.batch_alter_table('playlist_access_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playlist_access_grants_claimed_by'), ['claimed_by'], unique=False)
        batch_op.create_index('ix_playlist_access_grants_phone', ['phone_blind_index'], unique=False)

    op.create_table('grant_listens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('grant_id', sa.Uuid(), nullable=False),
    sa.Column('track_id', sa.Uuid(), nullable=False),
    sa.Column('max_position_seconds', sa.Float(), nullable=False),
    sa.Column('plays', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_position_seconds >= 0', name=op.f('ck_grant_listens_position_non_negative')),
    sa.CheckConstraint('plays >= 0', name=op.f('ck_grant_listens_plays_non_negative')),
    sa.ForeignKeyConstraint(['grant_id'], ['playlist_access_grants.id'], name=op.f('fk_grant_listens_grant_id_playlist_access_grants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_grant_listens_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_listens')),
    sa.UniqueConstraint('grant_id', 'track_id', name='uq_grant_listens_grant_track')
    )
    op.create_table('playlist_followers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('playlist_id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('grant_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('manual', 'sms_share', 'band_member')", name=op.f('ck_playlist_followers_source_valid')),
    sa.ForeignKeyConstraint(['grant_id'], ['playlist_access_grants.id'], name=op.f('fk_playlist_followers_grant_id_playlist_access_grants'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['playlist_id'], ['playlists.id'], name=op.f('fk_playlist_followers_playlist_id_playlists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_playlist_followers_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlist_followers')),
    sa.UniqueConstraint('playlist_id', 'profile_id', name='uq_playlist_followers_playlist_profile')
    )
    with op.batch_alter_table('playlist_followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playlist_followers_profile_id'), ['profile_id'], unique=False)

    op.create_table('sms_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=True),
    sa.Column('grant_id', sa.Uuid(), nullable=True),
    sa.Column('to_blind_index', sa.String(length=64), nullable=False),
    sa.Column('to_encrypted', sa.String(length=512), nullable=False),
    sa.Column('body_encrypted', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('error_message', sa.String(length=255), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('credit_source', sa.String(length=16), nullable=True),
    sa.Column('credit_period_id', sa.Uuid(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sending_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("credit_source IS NULL OR credit_source IN ('monthly', 'purchased')", name=op.f('ck_sms_messages_credit_source_valid')),
    sa.CheckConstraint("purpose IN ('share_code', 'resend_code', 'device_code', 'phone_verification', 'band_invite')", name=op.f('ck_sms_messages_purpose_valid')),
    sa.CheckConstraint("status IN ('pending', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled')", name=op.f('ck_sms_messages_status_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_sms_messages_attempts_non_negative')),
    sa.ForeignKeyConstraint(['credit_period_id'], ['sms_credits.id'], name=op.f('fk_sms_messages_credit_period_id_sms_credits'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grant_id'], ['playlist_access_grants.id'], name=op.f('fk_sms_messages_grant_id_playlist_access_grants'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_sms_messages_profile_id_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_messages')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_sms_messages_provider_sid'))
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_messages_grant_id'), ['grant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index('ix_sms_messages_status_created', ['status', 'created_at'], unique=False)



def downgrade():
    # Dropping a table drops its indexes and constraints; children go before parents.
    for table in (
        "sms_messages", "playlist_followers", "grant_listens", "playlist_access_grants",
        "shared_playlists", "playlist_tracks", "tracks", "playlists", "band_members",
        "band_invites", "sms_credits", "sms_credit_purchases", "producer_waitlist",
        "phone_verifications", "login_sessions", "bands", "admin_actions", "stripe_events",
        "profiles",
    ):
        op.drop_table(table)
