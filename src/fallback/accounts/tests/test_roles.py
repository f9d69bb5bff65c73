from itertools import pairwise
from pathlib import Path

from fallback.accounts.roles import MATRIX, Capability, Role, can, grantable_roles, matrix_markdown

DOCS = Path(__file__).resolve().parents[4] / "docs" / "ROLES.md"


def test_each_role_can_do_everything_the_role_below_can():
    order = [Role.VIEWER, Role.STAFF, Role.MANAGER, Role.OWNER]
    for lower, higher in pairwise(order):
        assert MATRIX[lower] < MATRIX[higher]


def test_viewer_only_views():
    assert MATRIX[Role.VIEWER] == {Capability.VIEW}


def test_only_owner_manages_the_organisation():
    assert [r for r in Role if can(r, Capability.MANAGE_ORGANISATION)] == [Role.OWNER]


def test_manager_cannot_grant_owner_but_owner_can():
    assert Role.OWNER not in grantable_roles(Role.MANAGER)
    assert Role.OWNER in grantable_roles(Role.OWNER)
    assert grantable_roles(Role.STAFF) == []


def test_unknown_role_can_do_nothing():
    assert not can("emperor", Capability.VIEW)


def test_roles_doc_shows_the_matrix_in_the_code():
    assert matrix_markdown() in DOCS.read_text()
