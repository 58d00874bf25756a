"""API shapes for proxies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from coop.i18n import Language
from coop.proxies.models import ProxyAppointment
from coop.proxies.service import is_valid_at, is_waiting
from coop.types import Time
from coop.vocabulary.terms import Purpose, from_mask


class CarerIn(BaseModel):
    """A proxy who is not a member: a parent, guardian or carer."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    email: EmailStr = Field(max_length=320)
    language: Language = Field(default=Language.nl, description="the language of the messages they get")


class ProxyIn(BaseModel):
    """Exactly one of ``proxy_member_id`` (a member) and ``carer`` (someone who is not a member)."""

    model_config = ConfigDict(extra="forbid")

    proxy_member_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    carer: CarerIn | None = Field(default=None, description="a proxy who is not a member; a new one is invited by mail")
    purposes: list[Purpose] | None = Field(default=None, min_length=1, max_length=len(Purpose), description="omit: all")
    valid_until: Time | None = None
    voting: bool = Field(default=False, description="may also vote for the member in the cooperative's votes")
    show_name: bool = Field(default=False, description="the proxy may see the member's name (else the number only)")

    @model_validator(mode="after")
    def _one_proxy(self) -> ProxyIn:
        if (self.proxy_member_id is None) == (self.carer is None):
            raise ValueError("give exactly one of proxy_member_id and carer")
        return self


class ProxyOut(BaseModel):
    id: int
    principal_id: int
    proxy_member_id: int | None
    proxy_carer_id: int | None
    """The carer (not a member) appointed, when the proxy is not a member."""
    purposes: list[Purpose]
    voting: bool
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    accepted_at: datetime | None
    """When the proxy accepted; the appointment is in force from then on."""
    waiting: bool
    """Asked, and the proxy has not yet answered."""
    show_name: bool
    active: bool

    @classmethod
    def of(cls, a: ProxyAppointment, now: datetime) -> ProxyOut:
        assert a.id is not None
        return cls(
            id=a.id,
            principal_id=a.principal_id,
            proxy_member_id=a.proxy_member_id,
            proxy_carer_id=a.proxy_carer_id,
            purposes=from_mask(Purpose, a.purposes_mask),
            voting=a.voting,
            valid_from=a.valid_from,
            valid_until=a.valid_until,
            revoked_at=a.revoked_at,
            accepted_at=a.accepted_at,
            waiting=is_waiting(a, now),
            show_name=a.show_name,
            active=is_valid_at(a, now),
        )
