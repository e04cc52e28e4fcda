"""Content edits invalidate the cached content and record a content version; emergency rules
refuse deletion in bulk too; and the signals other apps (clinic) listen to for outcomes.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal, receiver
from simple_history.models import HistoricalRecords

from triage.models import AnswerWord, ContentMessage, ContentVersion, Keyword, Rule
from triage.selectors import content_bump_version

# Sent inside the inbound text's transaction, so a receiver's rows commit with the outcome.
# outcome_recorded(conversation, tier, reasons, first): a first outcome or a raised tier.
outcome_recorded = Signal()
# text_not_understood(conversation, message): a text still not understood after a re-ask.
text_not_understood = Signal()

CONTENT_MODELS = (ContentMessage, AnswerWord, Keyword, Rule)


def _staff_user():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def content_changed(sender, instance, **kwargs) -> None:
    """Any content row saved or deleted: a new content version, and the cache is refreshed."""
    verb = "deleted" if "created" not in kwargs else ("added" if kwargs["created"] else "changed")
    ContentVersion.objects.create(
        changed_by=_staff_user(),
        summary=f"{sender._meta.verbose_name} {instance} {verb}"[:200],
    )
    # Now, so this connection reads its own edit; and again after commit, because between the
    # two a concurrent reader may have cached the old rows under the new version.
    content_bump_version()
    transaction.on_commit(content_bump_version)


def content_watch(model) -> None:
    post_save.connect(content_changed, sender=model, dispatch_uid=f"content-{model.__name__}-save")
    post_delete.connect(
        content_changed, sender=model, dispatch_uid=f"content-{model.__name__}-delete"
    )


for _model in CONTENT_MODELS:
    content_watch(_model)


@receiver(pre_delete, sender=Rule, dispatch_uid="protect-emergency-rules")
def _protect_emergency_rules(sender, instance: Rule, **kwargs) -> None:
    # QuerySet.delete() skips Rule.delete(); this signal still runs for each row.
    if instance.is_emergency:
        raise ValidationError(f"{instance.rule_id} is an emergency rule and cannot be deleted.")
