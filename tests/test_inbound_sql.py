"""The webhook's plain-SQL paths (triage/inbound_sql.py, reminders/schedule_sql.py) write rows
without save()."""

from __future__ import annotations

import uuid

import pytest
from django.db import models
from django.db.models.signals import post_save, pre_save

from reminders.models import Checkin
from triage.models import Conversation, Message, Person
from triage.services import conversation_handle_inbound

NUMBER = "+12125550143"


@pytest.mark.parametrize("model", [Person, Conversation, Message, Checkin])
def test_it_writes_only_models_whose_save_does_nothing_more(model: type[models.Model]) -> None:
    # A save() override or a save signal on these would be skipped on PostgreSQL, where the
    # webhook INSERTs and UPDATEs them in plain SQL: move that logic, or that write, first.
    assert model.save is models.Model.save
    assert not pre_save.has_listeners(model)
    assert not post_save.has_listeners(model)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "replies"),
    [("my upper back hurts", 2), ("cant feel my legs and i wet myself", 1)],
    ids=["welcome-and-question", "emergency-alone"],
)
def test_a_text_and_its_replies_are_stored_in_the_order_they_were_sent(
    body: str, replies: int
) -> None:
    result = conversation_handle_inbound(sid="SM" + uuid.uuid4().hex, address=NUMBER, body=body)

    transcript = list(Message.objects.order_by("created_at", "id").values("direction", "body"))
    assert len(result.replies) == replies
    assert transcript == [
        {"direction": "in", "body": body},
        *({"direction": "out", "body": reply} for reply in result.replies),
    ]
    outbound = Message.objects.filter(direction="out")
    assert {m.person_id for m in outbound} == {Person.objects.get(address=NUMBER).pk}
    assert {m.conversation_id for m in outbound} == {Conversation.objects.get().pk}
    assert {m.status for m in outbound} == {"replied"}
    assert {m.provider_sid for m in outbound} == {None}
    notice = {"notice": "emergency"} if result.emergency else {}
    assert [m.analysis for m in outbound] == [notice] * len(result.replies)
