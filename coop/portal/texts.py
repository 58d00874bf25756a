"""What the portal says about refusals and codes. Its words themselves, in Dutch and English
at B1 level (short sentences, everyday words), are messages in the cooperative's catalogue
(``coop/locale``, see :mod:`coop.i18n`); names of purposes, user types and kinds of data
come from the EHDS vocabulary."""

from __future__ import annotations

from coop.i18n import N_, word
from coop.vocabulary.terms import CATEGORIES, PURPOSES, USER_TYPES, Category, Purpose, UserType

REFUSALS: dict[str, str] = {
    "proxy-self": N_("refusal_proxy_self"),
    "proxy-not-member": N_("refusal_proxy_not_member"),
    "proxy-cycle": N_("refusal_proxy_cycle"),
    "proxy-overlap": N_("refusal_proxy_overlap"),
    "carer-details": N_("refusal_carer_details"),
    "carer-email-taken": N_("refusal_carer_email_taken"),
    "member-not-found": N_("refusal_member_not_found"),
    "event-not-found": N_("refusal_event_not_found"),
    "receipt-pending": N_("refusal_receipt_pending"),
    "version-mismatch": N_("refusal_version_mismatch"),
    "already-voted": N_("refusal_already_voted"),
    "voting-closed": N_("refusal_voting_closed"),
    "voting-open": N_("refusal_voting_open"),
    "not-a-voter": N_("refusal_not_a_voter"),
    "member-exists": N_("refusal_member_exists"),
    "reference-exists": N_("refusal_reference_exists"),
    "invalid-name": N_("refusal_invalid_name"),
    "invalid-email": N_("refusal_invalid_email"),
    "unknown-language": N_("refusal_unknown_language"),
    "invalid-reference": N_("refusal_invalid_reference"),
    "duplicate-in-file": N_("refusal_duplicate_in_file"),
    "csv-unreadable": N_("refusal_csv_unreadable"),
    "csv-no-header": N_("refusal_csv_no_header"),
    "csv-columns": N_("refusal_csv_columns"),
    "no-net-income": N_("refusal_no_net_income"),
    "period-distributed": N_("refusal_period_distributed"),
    "draft-stale": N_("refusal_draft_stale"),
    "committed-already": N_("refusal_committed_already"),
    "approval-pending": N_("refusal_approval_pending"),
    "approval-decided": N_("refusal_approval_decided"),
    "approval-stale": N_("refusal_approval_stale"),
    "approval-not-found": N_("refusal_approval_not_found"),
    "own-request": N_("refusal_own_request"),
    "not-your-request": N_("refusal_not_your_request"),
    "named-board-user-needed": N_("refusal_named_board_user_needed"),
    "invalid-period": N_("refusal_invalid_period"),
    "tree-head-not-found": N_("refusal_tree_head_not_found"),
    "insufficient-funds": N_("refusal_insufficient_funds"),
    "not-a-member": N_("refusal_not_a_member"),
    "own-yes-only": N_("refusal_own_yes_only"),
    "not-sensitive": N_("refusal_not_sensitive"),
    "not-a-member-number": N_("refusal_not_a_member_number"),
    "proxy-chain-too-deep": N_("refusal_proxy_chain_too_deep"),
    "proxy-not-found": N_("refusal_proxy_not_found"),
    "proposal-not-found": N_("refusal_proposal_not_found"),
    "distribution-not-found": N_("refusal_distribution_not_found"),
    "no-benefit-policy": N_("refusal_no_benefit_policy"),
    "invitation-used": N_("refusal_invitation_used"),
    "invitation-expired": N_("refusal_invitation_expired"),
    "invitation-invalid": N_("refusal_invitation_invalid"),
    "reset-used": N_("refusal_reset_used"),
    "reset-expired": N_("refusal_reset_expired"),
    "reset-invalid": N_("refusal_reset_invalid"),
    "email-taken": N_("refusal_email_taken"),
    "email-unchanged": N_("refusal_email_unchanged"),
    "email-change-used": N_("refusal_email_change_used"),
    "email-change-expired": N_("refusal_email_change_expired"),
    "email-change-invalid": N_("refusal_email_change_invalid"),
    "account-exists": N_("refusal_account_exists"),
    "password-length": N_("refusal_password_length"),
    "invalid-entry": N_("refusal_invalid_entry"),
    "entry-differs": N_("refusal_entry_differs"),
    "amount-format": N_("refusal_amount_format"),
    "already-extended": N_("refusal_already_extended"),
    "invalid-validity": N_("refusal_invalid_validity"),
    "last-board-user": N_("refusal_last_board_user"),
    "board-user-not-found": N_("refusal_board_user_not_found"),
    "public-sector-only": N_("refusal_public_sector_only"),
    "approved-in-future": N_("refusal_approved_in_future"),
    "consultation-not-found": N_("refusal_consultation_not_found"),
    "permit-differs": N_("refusal_permit_differs"),
    "invalid-extension": N_("refusal_invalid_extension"),
    "too-long": N_("refusal_too_long"),
    "permit-revoked": N_("refusal_permit_revoked"),
    "permit-expired": N_("refusal_permit_expired"),
    "invalid-moment": N_("refusal_invalid_moment"),
    "invalid-result": N_("refusal_invalid_result"),
    "result-before-permit": N_("refusal_result_before_permit"),
    "not-confirmed": N_("refusal_not_confirmed"),
    "date-in-future": N_("refusal_date_in_future"),
    "period-closed": N_("refusal_period_closed"),
    "failed": N_("refusal_failed"),
    "wrong-password": N_("refusal_wrong_password"),
    "password-unchanged": N_("refusal_password_unchanged"),
    "too-many-requests": N_("refusal_too_many_requests"),
    "membership-ended": N_("refusal_membership_ended"),
    "member-left": N_("refusal_member_left"),
    "member-active": N_("refusal_member_active"),
    "member-erased": N_("refusal_member_erased"),
    "wrong-code": N_("refusal_wrong_code"),
    "code-used": N_("refusal_code_used"),
    "challenge-expired": N_("refusal_challenge_expired"),
    "two-factor-on": N_("refusal_two_factor_on"),
    "two-factor-off": N_("refusal_two_factor_off"),
    "two-factor-not-started": N_("refusal_two_factor_not_started"),
    "two-factor-required": N_("refusal_two_factor_required"),
    "not-a-board-user": N_("refusal_not_a_board_user"),
    "csrf": N_("refusal_csrf"),
    "forbidden": N_("refusal_forbidden"),
}
"""Why a change was refused, by the stable code of the refusal, as a catalogue key. A page
shows only these texts: a link with an ``?error=`` code that is not here shows nothing."""


def label(value: str, lang: str) -> str:
    """The name of a vocabulary term, or the word for a status, in ``lang``."""
    for enum_type, terms in ((Purpose, PURPOSES), (UserType, USER_TYPES), (Category, CATEGORIES)):
        try:
            term = terms[enum_type(value)]  # type: ignore[index]
        except (ValueError, KeyError):
            continue
        name = str(getattr(term, lang))
        return name if enum_type is Category else _inline(name)
    return word(value, lang) or value


def _inline(name: str) -> str:
    """A name as it reads inside a sentence: 'Scientific research' -> 'scientific research',
    but 'AI training' stays as it is."""
    return name if len(name) > 1 and name[1].isupper() else name[:1].lower() + name[1:]
