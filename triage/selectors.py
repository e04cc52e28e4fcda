"""Reading content for the conversation engine, cached between requests.

The content (messages, answer words, keywords, rule switches) changes rarely and is read on
every inbound text, so it is cached in the default cache under a version number that any
committed content save bumps (triage/signals.py). Each process keeps its own copy of the
content and asks for the version at most every RECHECK_SECONDS: with Redis (REDIS_URL) the
cache is shared and an edit reaches every other process within RECHECK_SECONDS (the process
that saved it, at once); without Redis each process has its own cache and another process may
serve the old text for up to CACHE_SECONDS.

The cache is an optimisation, never a dependency: when Redis is down or hangs (its client gives
up after a short socket timeout, backpain_service/env.py) the content is read from the database
as on a cache miss, so texts are still answered.
"""

from __future__ import annotations

import logging
import secrets
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from triage.conversation import Content
from triage.models import AnswerWord, ContentMessage, ContentVersion, Keyword, Rule
from triage.rules import EMERGENCY_SYMPTOMS, RULE_TIERS, SOON_SYMPTOMS, URGENT_SYMPTOMS, Tier

log = logging.getLogger(__name__)

VERSION_KEY = "triage:content:version"
CACHE_SECONDS = 300
# How stale another process's edit may be here. Not a setting: asking on every text cost a
# Redis round trip per text (benchmarks/webhook.py), and a second of delay after an edit is
# invisible to the people texting; a longer one would confuse staff testing their edit.
RECHECK_SECONDS = 1.0

# The symptom a rule's extra phrases stand for (the first of the rule's own symptoms).
RULE_SYMPTOM: dict[str, str] = {
    rid: sorted(keys)[0]
    for table in (EMERGENCY_SYMPTOMS, URGENT_SYMPTOMS, SOON_SYMPTOMS)
    for rid, keys in table.items()
}
RULE_SYMPTOM.update(
    {
        "E10": "band_like_or_radiating_pain",
        "U08": "injury_or_fall",
        "S07": "spreading_ribs_chest_shoulder",
    }
)


def _fresh_version() -> int:
    # A random start, so a version number is never reused after the cache was emptied (a
    # process's own copy, below, would otherwise pass for the content of the new version).
    return secrets.randbits(48)


def content_version() -> int:
    return cache.get_or_set(VERSION_KEY, _fresh_version, None)


def content_bump_version() -> None:
    _local.clear()  # this process reads the new version on its next text
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, _fresh_version(), None)
    except RedisError as exc:
        # The edit itself is saved. A Redis that restarts comes back empty (nothing stale); one
        # that only dropped off the network serves its cached content until it expires.
        log.error(
            "content cache unreachable (%s): other processes may show the previous content "
            "for up to %s s",
            exc,
            CACHE_SECONDS,
        )


# This process's copy of the content of the version it last read, and when (monotonic())
# it last checked that version was current: a text then costs at most one small cache read
# (the version number) a second instead of fetching and unpickling the whole content.
_local: dict[str, tuple[int, Content, float]] = {}


def content_load() -> Content:
    held = _local.get("content")
    now = monotonic()
    if held is not None and now - held[2] < RECHECK_SECONDS:
        return held[1]
    try:
        version = content_version()
        if held is not None and held[0] == version:
            _local["content"] = (version, held[1], now)
            return held[1]
        key = f"triage:content:{version}"
        content = cache.get(key)
    except RedisError as exc:
        log.warning("content cache unreachable (%s): reading content from the database", exc)
        return _content_from_db()
    if content is None:
        content = _content_from_db()
        try:
            cache.set(key, content, CACHE_SECONDS)
        except RedisError:
            pass  # went away between the read and the write: the next text tries again
    _local["content"] = (version, content, now)
    return content


def _content_from_db() -> Content:
    messages: dict[str, dict[str, str]] = {}
    for key, language, text in ContentMessage.objects.values_list("key", "language", "text"):
        messages.setdefault(key, {})[language] = text
    words = {
        phrase: meaning for phrase, meaning in AnswerWord.objects.values_list("phrase", "meaning")
    }
    keywords = dict(Keyword.objects.values_list("phrase", "action"))
    extra: dict[str, list[str]] = {}
    disabled, raised = set(), {}
    for rule in Rule.objects.all():
        if not rule.enabled:
            disabled.add(rule.rule_id)
        floor = RULE_TIERS.get(rule.rule_id)
        if floor is not None and rule.tier > floor:
            raised[rule.rule_id] = int(rule.tier)
        phrases = [p.strip() for p in rule.extra_phrases.splitlines() if p.strip()]
        if phrases and rule.rule_id in RULE_SYMPTOM:
            extra.setdefault(RULE_SYMPTOM[rule.rule_id], []).extend(phrases)
    return Content(
        messages=messages,
        answer_words=words or None,
        keywords=keywords,
        extra_phrases={k: tuple(v) for k, v in extra.items()},
        disabled_rules=frozenset(disabled),
        raised={k: Tier(v) for k, v in raised.items()},
        service=settings.SERVICE_NAME,
        contact=settings.SUPPORT_CONTACT,
        version=ContentVersion.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    )
