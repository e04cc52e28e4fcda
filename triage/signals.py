"""Content edits invalidate the cached content; emergency rules refuse deletion in bulk too."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from triage.models import AnswerWord, ContentMessage, Keyword, Rule
from triage.selectors import content_bump_version

CONTENT_MODELS = (ContentMessage, AnswerWord, Keyword, Rule)


def _bump(sender, **kwargs) -> None:
    # Now, so this connection reads its own edit; and again after commit, because between the
    # two a concurrent reader may have cached the old rows under the new version.
    content_bump_version()
    transaction.on_commit(content_bump_version)


for model in CONTENT_MODELS:
    post_save.connect(_bump, sender=model, dispatch_uid=f"bump-{model.__name__}-save")
    post_delete.connect(_bump, sender=model, dispatch_uid=f"bump-{model.__name__}-delete")


@receiver(pre_delete, sender=Rule, dispatch_uid="protect-emergency-rules")
def _protect_emergency_rules(sender, instance: Rule, **kwargs) -> None:
    # QuerySet.delete() skips Rule.delete(); this signal still runs for each row.
    if instance.is_emergency:
        raise ValidationError(f"{instance.rule_id} is an emergency rule and cannot be deleted.")
