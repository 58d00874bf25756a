"""choice profiles: members counted per distinct profile, so a consultation at now reads
profiles instead of every member

* ``choice_member_profile``: each member's state as counted (their open version, the proxies
  of their appointments in force, when counted and when that ends);
* ``choice_profile``: how many members share each profile, per user type;
* ``choice_profile_watermark``: one row, how far they are counted.

Derived and updated in place (outside the record; ``coop ledger verify`` recounts them), so
no append-only triggers. Filled from the versions and appointments already there, with the
SQL that ``coop ledger recount-profiles`` ran when this was written (a frozen copy below).

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-27 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import coop.types
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The counting SQL of this revision, frozen (coop.choices.recount may change later; this must not).
_MEMBERS = (  # {greatest}: GREATEST on PostgreSQL, MAX on SQLite
    "WITH touched AS (SELECT a.principal_id AS member_id, {greatest}(max(v.valid_from), "
    "coalesce(max(a.accepted_at), max(v.valid_from)), coalesce(max(a.revoked_at), max(v.valid_from))) AS "
    "counted FROM proxy_appointment a JOIN choice_version v ON v.member_id = a.principal_id AND "
    "v.valid_to IS NULL GROUP BY a.principal_id), held AS (SELECT t.member_id, coalesce('public-health=' "
    "|| max(CASE WHEN (a.purposes_mask & 1) <> 0 THEN a.proxy_member_id END) || ';', '') || "
    "coalesce('policy=' || max(CASE WHEN (a.purposes_mask & 2) <> 0 THEN a.proxy_member_id END) || ';', "
    "'') || coalesce('statistics=' || max(CASE WHEN (a.purposes_mask & 4) <> 0 THEN a.proxy_member_id "
    "END) || ';', '') || coalesce('education=' || max(CASE WHEN (a.purposes_mask & 8) <> 0 THEN "
    "a.proxy_member_id END) || ';', '') || coalesce('research=' || max(CASE WHEN (a.purposes_mask & 16) "
    "<> 0 THEN a.proxy_member_id END) || ';', '') || coalesce('innovation=' || max(CASE WHEN "
    "(a.purposes_mask & 32) <> 0 THEN a.proxy_member_id END) || ';', '') || coalesce('ai-training=' || "
    "max(CASE WHEN (a.purposes_mask & 64) <> 0 THEN a.proxy_member_id END) || ';', '') || "
    "coalesce('care-improvement=' || max(CASE WHEN (a.purposes_mask & 128) <> 0 THEN a.proxy_member_id "
    "END) || ';', '') AS proxies, min(a.valid_until) AS expires_at FROM touched t JOIN proxy_appointment "
    "a ON a.principal_id = t.member_id AND a.proxy_member_id IS NOT NULL AND a.accepted_at IS NOT NULL "
    "AND a.revoked_at IS NULL AND (a.valid_until IS NULL OR a.valid_until > t.counted) GROUP BY "
    "t.member_id) INSERT INTO choice_member_profile (member_id, is_member, opt_out, excluded_mask, "
    "preference_mask, sensitive_yes_mask, proxies, counted_at, expires_at) SELECT v.member_id, "
    "v.is_member, v.opt_out, v.excluded_mask, v.preference_mask, v.sensitive_yes_mask, "
    "coalesce(h.proxies, ''), coalesce(t.counted, v.valid_from), h.expires_at FROM choice_version v LEFT "
    "JOIN touched t ON t.member_id = v.member_id LEFT JOIN held h ON h.member_id = v.member_id WHERE "
    "v.valid_to IS NULL"
)
_PROFILES_PUBLIC = (
    "INSERT INTO choice_profile (user_type, is_member, opt_out, excluded_mask, codes, sensitive_yes_mask,"
    " proxies, members) SELECT user_type, is_member, opt_out, excluded_mask, codes, sensitive_yes_mask, "
    "proxies, count(*) FROM (SELECT 'public' AS user_type, m.is_member AS is_member, (m.is_member AND "
    "m.opt_out) AS opt_out, CASE WHEN (m.is_member AND NOT m.opt_out) THEN m.excluded_mask ELSE 0 END AS "
    "excluded_mask, CASE WHEN (m.is_member AND NOT m.opt_out) THEN ((((m.preference_mask >> 0) & 3)) << "
    "0) + ((((m.preference_mask >> 6) & 3)) << 2) + ((((m.preference_mask >> 12) & 3)) << 4) + "
    "((((m.preference_mask >> 18) & 3)) << 6) + ((((m.preference_mask >> 24) & 3)) << 8) + "
    "((((m.preference_mask >> 30) & 3)) << 10) + ((((m.preference_mask >> 36) & 3)) << 12) + "
    "((((m.preference_mask >> 42) & 3)) << 14) ELSE 0 END AS codes, CASE WHEN (m.is_member AND NOT "
    "m.opt_out) THEN m.sensitive_yes_mask ELSE 0 END AS sensitive_yes_mask, CASE WHEN (m.is_member AND "
    "NOT m.opt_out) AND (((m.preference_mask >> 0) & 3) = 3 OR ((m.preference_mask >> 6) & 3) = 3 OR "
    "((m.preference_mask >> 12) & 3) = 3 OR ((m.preference_mask >> 18) & 3) = 3 OR ((m.preference_mask >>"
    " 24) & 3) = 3 OR ((m.preference_mask >> 30) & 3) = 3 OR ((m.preference_mask >> 36) & 3) = 3 OR "
    "((m.preference_mask >> 42) & 3) = 3) THEN m.proxies ELSE '' END AS proxies FROM "
    "choice_member_profile m) k GROUP BY user_type, is_member, opt_out, excluded_mask, codes, "
    "sensitive_yes_mask, proxies"
)
_PROFILES_ACADEMIC = (
    "INSERT INTO choice_profile (user_type, is_member, opt_out, excluded_mask, codes, sensitive_yes_mask,"
    " proxies, members) SELECT user_type, is_member, opt_out, excluded_mask, codes, sensitive_yes_mask, "
    "proxies, count(*) FROM (SELECT 'academic' AS user_type, m.is_member AS is_member, (m.is_member AND "
    "m.opt_out) AS opt_out, CASE WHEN (m.is_member AND NOT m.opt_out) THEN m.excluded_mask ELSE 0 END AS "
    "excluded_mask, CASE WHEN (m.is_member AND NOT m.opt_out) THEN ((((m.preference_mask >> 2) & 3)) << "
    "0) + ((((m.preference_mask >> 8) & 3)) << 2) + ((((m.preference_mask >> 14) & 3)) << 4) + "
    "((((m.preference_mask >> 20) & 3)) << 6) + ((((m.preference_mask >> 26) & 3)) << 8) + "
    "((((m.preference_mask >> 32) & 3)) << 10) + ((((m.preference_mask >> 38) & 3)) << 12) + "
    "((((m.preference_mask >> 44) & 3)) << 14) ELSE 0 END AS codes, CASE WHEN (m.is_member AND NOT "
    "m.opt_out) THEN m.sensitive_yes_mask ELSE 0 END AS sensitive_yes_mask, CASE WHEN (m.is_member AND "
    "NOT m.opt_out) AND (((m.preference_mask >> 2) & 3) = 3 OR ((m.preference_mask >> 8) & 3) = 3 OR "
    "((m.preference_mask >> 14) & 3) = 3 OR ((m.preference_mask >> 20) & 3) = 3 OR ((m.preference_mask >>"
    " 26) & 3) = 3 OR ((m.preference_mask >> 32) & 3) = 3 OR ((m.preference_mask >> 38) & 3) = 3 OR "
    "((m.preference_mask >> 44) & 3) = 3) THEN m.proxies ELSE '' END AS proxies FROM "
    "choice_member_profile m) k GROUP BY user_type, is_member, opt_out, excluded_mask, codes, "
    "sensitive_yes_mask, proxies"
)
_PROFILES_COMMERCIAL = (
    "INSERT INTO choice_profile (user_type, is_member, opt_out, excluded_mask, codes, sensitive_yes_mask,"
    " proxies, members) SELECT user_type, is_member, opt_out, excluded_mask, codes, sensitive_yes_mask, "
    "proxies, count(*) FROM (SELECT 'commercial' AS user_type, m.is_member AS is_member, (m.is_member AND"
    " m.opt_out) AS opt_out, CASE WHEN (m.is_member AND NOT m.opt_out) THEN m.excluded_mask ELSE 0 END AS"
    " excluded_mask, CASE WHEN (m.is_member AND NOT m.opt_out) THEN ((((m.preference_mask >> 4) & 3)) << "
    "0) + ((((m.preference_mask >> 10) & 3)) << 2) + ((((m.preference_mask >> 16) & 3)) << 4) + "
    "((((m.preference_mask >> 22) & 3)) << 6) + ((((m.preference_mask >> 28) & 3)) << 8) + "
    "((((m.preference_mask >> 34) & 3)) << 10) + ((((m.preference_mask >> 40) & 3)) << 12) + "
    "((((m.preference_mask >> 46) & 3)) << 14) ELSE 0 END AS codes, CASE WHEN (m.is_member AND NOT "
    "m.opt_out) THEN m.sensitive_yes_mask ELSE 0 END AS sensitive_yes_mask, CASE WHEN (m.is_member AND "
    "NOT m.opt_out) AND (((m.preference_mask >> 4) & 3) = 3 OR ((m.preference_mask >> 10) & 3) = 3 OR "
    "((m.preference_mask >> 16) & 3) = 3 OR ((m.preference_mask >> 22) & 3) = 3 OR ((m.preference_mask >>"
    " 28) & 3) = 3 OR ((m.preference_mask >> 34) & 3) = 3 OR ((m.preference_mask >> 40) & 3) = 3 OR "
    "((m.preference_mask >> 46) & 3) = 3) THEN m.proxies ELSE '' END AS proxies FROM "
    "choice_member_profile m) k GROUP BY user_type, is_member, opt_out, excluded_mask, codes, "
    "sensitive_yes_mask, proxies"
)
_WATERMARK = (
    "INSERT INTO choice_profile_watermark (id, counted_to, last_version_id, last_appointment_id) SELECT "
    "1, max(counted_at), (SELECT coalesce(max(id), 0) FROM choice_version), (SELECT coalesce(max(id), 0) "
    "FROM proxy_appointment) FROM choice_member_profile HAVING count(*) > 0"
)


def upgrade() -> None:
    op.create_table(
        "choice_member_profile",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("is_member", sa.Boolean(), nullable=False),
        sa.Column("opt_out", sa.Boolean(), nullable=False),
        sa.Column("excluded_mask", sa.Integer(), nullable=False),
        sa.Column("preference_mask", sa.BigInteger(), nullable=False),
        sa.Column("sensitive_yes_mask", sa.Integer(), nullable=False),
        sa.Column("proxies", sa.String(length=400), nullable=False),
        sa.Column("counted_at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", coop.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_choice_member_profile")),
    )
    op.create_index(op.f("ix_choice_member_profile_expires_at"), "choice_member_profile", ["expires_at"], unique=False)
    op.create_table(
        "choice_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_type", sa.String(length=20), nullable=False),
        sa.Column("is_member", sa.Boolean(), nullable=False),
        sa.Column("opt_out", sa.Boolean(), nullable=False),
        sa.Column("excluded_mask", sa.Integer(), nullable=False),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.Column("sensitive_yes_mask", sa.Integer(), nullable=False),
        sa.Column("proxies", sa.String(length=400), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choice_profile")),
        sa.UniqueConstraint(
            "user_type",
            "is_member",
            "opt_out",
            "excluded_mask",
            "codes",
            "sensitive_yes_mask",
            "proxies",
            name=op.f("uq_choice_profile_key"),
        ),
    )
    op.create_table(
        "choice_profile_watermark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counted_to", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_version_id", sa.Integer(), nullable=False),
        sa.Column("last_appointment_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choice_profile_watermark")),
    )
    bind = op.get_bind()
    bind.execute(sa.text(_MEMBERS.format(greatest="GREATEST" if bind.dialect.name == "postgresql" else "MAX")))
    for profiles in (_PROFILES_PUBLIC, _PROFILES_ACADEMIC, _PROFILES_COMMERCIAL):
        bind.execute(sa.text(profiles))
    bind.execute(sa.text(_WATERMARK))


def downgrade() -> None:
    op.drop_table("choice_profile_watermark")
    op.drop_table("choice_profile")
    op.drop_index(op.f("ix_choice_member_profile_expires_at"), table_name="choice_member_profile")
    op.drop_table("choice_member_profile")
