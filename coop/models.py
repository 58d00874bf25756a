"""Every table, imported in one place so Alembic and the application see the same schema."""

from coop.access.models import AccessRecord, AccessRecordMember
from coop.approvals.models import BoardApproval
from coop.auth.models import ApiKey, LoginFailures, PasswordReset, RecoveryCode, TwoFactor, UserAccount
from coop.carers.models import Carer
from coop.choices.models import ChoiceProfile, ChoiceVersion, MemberProfile, ProfileWatermark
from coop.governance.models import GovernanceDocument, Proposal, Vote
from coop.hdab.models import Consultation
from coop.mail.models import MessageSettings, OutboxMessage
from coop.members.models import EmailChange, Invitation, Member
from coop.money.models import Distribution, DistributionMember, DistributionPermit
from coop.permits.models import (
    Manifest,
    ManifestCheck,
    ManifestEntry,
    ManifestMember,
    ManifestMemberSet,
    Permit,
    Result,
    UsageEvent,
)
from coop.proxies.models import ProxyAppointment
from coop.record.models import WitnessCosignature, WitnessState
from ledger.models import LedgerEvent, LedgerNode, LedgerTreeHead, MoneyAccount, MoneyEntry, MoneyPosting

__all__ = [
    "AccessRecord",
    "AccessRecordMember",
    "ApiKey",
    "BoardApproval",
    "Carer",
    "ChoiceProfile",
    "ChoiceVersion",
    "Consultation",
    "Distribution",
    "DistributionMember",
    "DistributionPermit",
    "EmailChange",
    "GovernanceDocument",
    "Invitation",
    "LedgerEvent",
    "LedgerNode",
    "LedgerTreeHead",
    "LoginFailures",
    "Manifest",
    "ManifestCheck",
    "ManifestEntry",
    "ManifestMember",
    "ManifestMemberSet",
    "Member",
    "MemberProfile",
    "MessageSettings",
    "MoneyAccount",
    "MoneyEntry",
    "MoneyPosting",
    "OutboxMessage",
    "PasswordReset",
    "Permit",
    "ProfileWatermark",
    "Proposal",
    "ProxyAppointment",
    "RecoveryCode",
    "Result",
    "TwoFactor",
    "UsageEvent",
    "UserAccount",
    "Vote",
    "WitnessCosignature",
    "WitnessState",
]
