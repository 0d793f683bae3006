"""What every service shares: who acts and when, the database, and how it says no."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from harness.core.clock import Clock
from harness.core.config import Settings

if TYPE_CHECKING:
    # Imported by audit() when it runs: the model classes load SQLModel and the ORM, which a
    # service that only reads (``kkik status``, issue 16, item 8) does not need.
    from harness.store.models import AuditEntry

__all__ = ["Context", "ServiceError"]


class ServiceError(ValueError):
    """An action that cannot be done. ``code`` is stable and has a sentence in each face's text
    table (``harness.services.texts``); ``fields`` fill it in."""

    def __init__(self, code: str, /, **fields: object) -> None:
        super().__init__(f"{code}: {fields}")
        self.code = code
        self.fields = fields


@dataclass(frozen=True)
class Context:
    """One person's call into the services: the running process's parts and who they are.

    ``actor`` names the person in the audit log: ``cli:anna`` from a terminal, ``web:anna``
    from the dashboard. The clock is the process's injected clock, so what a service records
    (a mark's time, an audit entry's) is on the same clock as everything else.
    """

    engine: Engine
    clock: Clock
    settings: Settings
    actor: str

    def now(self) -> datetime:
        return self.clock.now()

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: object,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str | None = None,
        *,
        at: datetime | None = None,
    ) -> AuditEntry:
        """An audit-log row for a change this actor makes (added to the session by the caller,
        so it commits with the change)."""
        from harness.store.models import AuditEntry

        return AuditEntry(
            at=at or self.now(),
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            reason=reason,
        )
