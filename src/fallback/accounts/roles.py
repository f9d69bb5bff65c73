"""Membership roles and the matrix of who may do what.

The matrix is the single source: views, the API and config-as-code ask `can()`, and
docs/ROLES.md is checked against it by a test.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"
    VIEWER = "viewer", "Viewer"


class Capability(StrEnum):
    VIEW = "view"
    WORK_DESK = "work_desk"
    DECLARE_OUTAGE = "declare_outage"
    SEND_NOTICES = "send_notices"
    RUN_FALLBACK = "run_fallback"
    EDIT_SETUP = "edit_setup"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_ORGANISATION = "manage_organisation"


CAPABILITY_LABELS: dict[Capability, str] = {
    Capability.VIEW: "See systems, incidents, the replica, the plan and the audit trail",
    Capability.WORK_DESK: "Work at the desk: look up records, make documents, log work",
    Capability.DECLARE_OUTAGE: "Confirm or declare an outage and post incident updates",
    Capability.SEND_NOTICES: "Send notices to customers, suppliers and staff",
    Capability.RUN_FALLBACK: "Switch fallback mode on or off; waive lines on the way back",
    Capability.EDIT_SETUP: "Change systems, checks, connectors, the plan and backups; apply config",
    Capability.MANAGE_MEMBERS: "Add and remove members, change roles below owner",
    Capability.MANAGE_ORGANISATION: "Rename the organisation, change its settings, manage owners",
}

_VIEWER = {Capability.VIEW}
_STAFF = _VIEWER | {Capability.WORK_DESK, Capability.DECLARE_OUTAGE}
_MANAGER = _STAFF | {
    Capability.SEND_NOTICES,
    Capability.RUN_FALLBACK,
    Capability.EDIT_SETUP,
    Capability.MANAGE_MEMBERS,
}
_OWNER = _MANAGER | {Capability.MANAGE_ORGANISATION}

MATRIX: dict[str, frozenset[Capability]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.MANAGER: frozenset(_MANAGER),
    Role.STAFF: frozenset(_STAFF),
    Role.VIEWER: frozenset(_VIEWER),
}

# Higher rank may grant roles up to its own, except that only owners make owners.
RANK = {Role.VIEWER: 0, Role.STAFF: 1, Role.MANAGER: 2, Role.OWNER: 3}


def can(role: str, capability: Capability) -> bool:
    return capability in MATRIX.get(role, frozenset())


def grantable_roles(role: str) -> list[Role]:
    """Roles a member with `role` may give to someone else."""
    if not can(role, Capability.MANAGE_MEMBERS):
        return []
    if role == Role.OWNER:
        return list(Role)
    return [r for r in Role if RANK[r] <= RANK[Role(role)] and r != Role.OWNER]


def matrix_markdown() -> str:
    """The matrix as a Markdown table (docs/ROLES.md embeds exactly this)."""
    roles = list(Role)
    lines = [
        "| What | " + " | ".join(r.label for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for cap in Capability:
        marks = " | ".join("yes" if can(r, cap) else "–" for r in roles)
        lines.append(f"| {CAPABILITY_LABELS[cap]} | {marks} |")
    return "\n".join(lines)
