"""The roles a reader can hold and the principal a request (or a report) acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    ANALYST = "analyst"
    MONITOR = "monitor"
    LIAISON = "liaison"
    PUBLIC = "public"


#: Roles that see internal (non-public) data; their every access is audited.
INTERNAL_ROLES = {Role.ADMINISTRATOR, Role.ANALYST, Role.MONITOR, Role.LIAISON}
#: Roles that see every finding unredacted.
FULL_ROLES = (Role.ADMINISTRATOR, Role.ANALYST)


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    party: str | None = None
    source_ids: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""

    @property
    def actor(self) -> str:
        """Name recorded in workflow transitions."""
        who = f"{self.role.value}:{self.party}" if self.party else self.role.value
        return f"{who}:{self.token_id}"
