"""Staff for the clinic tests: a staff user in a role (a group from clinic/roles.py) or with
single permissions, and a test client logged in as one."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission, User
from django.test import Client

_usernames = itertools.count(1)


def staff_user(
    group: str | None = None, *, perms: Iterable[str] = (), username: str | None = None
) -> User:
    """A new staff user in `group` (None: no role) with the permissions `perms` (codenames)."""
    user = User.objects.create_user(username or f"staff{next(_usernames)}", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def logged_in(user: User, client: Client | None = None) -> Client:
    """`client` (a new one if None) logged in as `user`."""
    if client is None:
        client = Client()
    client.force_login(user)
    return client


def staff_client(
    group: str | None = None,
    *,
    perms: Iterable[str] = (),
    username: str | None = None,
    client: Client | None = None,
) -> Client:
    """A client logged in as a new staff_user(group, perms=perms, username=username)."""
    return logged_in(staff_user(group, perms=perms, username=username), client)
