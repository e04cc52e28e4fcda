"""The webhook's plain-SQL paths (triage/inbound_sql.py, reminders/schedule_sql.py) write rows
without save()."""

from __future__ import annotations

import pytest
from django.db import models
from django.db.models.signals import post_save, pre_save

from reminders.models import Checkin
from triage.models import Conversation, Message, Person


@pytest.mark.parametrize("model", [Person, Conversation, Message, Checkin])
def test_it_writes_only_models_whose_save_does_nothing_more(model: type[models.Model]) -> None:
    # A save() override or a save signal on these would be skipped on PostgreSQL, where the
    # webhook INSERTs and UPDATEs them in plain SQL: move that logic, or that write, first.
    assert model.save is models.Model.save
    assert not pre_save.has_listeners(model)
    assert not post_save.has_listeners(model)
