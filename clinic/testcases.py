"""Saved test conversations: replay a case's texts through the engine and compare the tier.

`testcase_run` feeds each line of a `SavedConversation` to the pure engine
(`triage.conversation.advance`) with the current content, as the webhook would for a person with
that language and number - but nothing is sent and no person or conversation row is written.
The one write is the case's own last_run_at / last_passed / last_result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from clinic.models import SavedConversation
from triage.conversation import Content, Person, State, advance
from triage.rules import Tier
from triage.selectors import content_load


@dataclass
class Turn:
    text: str
    replies: list[str]


@dataclass
class Result:
    case: SavedConversation
    passed: bool
    tier: Tier | None  # the episode's tier at the end; None when no outcome was given
    rule_ids: list[str] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    content_version: int = 0

    @property
    def expected(self) -> Tier:
        return Tier(self.case.expected_tier)

    @property
    def summary(self) -> str:
        got = _tier_name(self.tier)
        reasons = f" ({', '.join(self.rule_ids)})" if self.rule_ids else ""
        if self.passed:
            return f"{got}{reasons}"
        return f"expected {self.expected.name}, got {got}{reasons}"

    def transcript(self) -> str:
        lines = []
        for turn in self.turns:
            lines.append(f"> {turn.text}")
            lines.extend(f"< {reply}" for reply in turn.replies or ["(no reply)"])
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"Final tier: {_tier_name(self.tier)}; expected {self.expected.name}")
        lines.append(f"Rule ids: {', '.join(self.rule_ids) or '-'}")
        lines.append(f"{verdict} (content version {self.content_version})")
        return "\n".join(lines)


def _tier_name(tier: Tier | None) -> str:
    return "no outcome" if tier is None else tier.name


def testcase_replay(
    texts: Iterable[str], *, language: str = "", uk_number: bool = False, content: Content
) -> tuple[Tier | None, list[str], list[Turn]]:
    """The engine's replies to each text, and the tier and rule ids the episode ends with.

    Mirrors what `triage.services` keeps between texts: the state, the person's language and
    opt-out, and a new episode (no outcome yet) after RESTART, or START after STOP.
    """
    country = "GB" if uk_number else "US"
    person = Person(language=language or None, country=country)
    state: State | None = None
    tier: Tier | None = None
    turns: list[Turn] = []
    for text in texts:
        t = advance(state, text, person=person, content=content)
        turns.append(Turn(text, list(t.replies)))
        if t.action == "restart" or (t.action == "opt_in" and person.opted_out):
            tier = None  # a new episode: its outcome is the one that counts
        opted_out = {"opt_out": True, "opt_in": False}.get(t.action or "", person.opted_out)
        person = Person(
            opted_out=opted_out, language=t.language or person.language, country=country
        )
        state = t.state
        if t.outcome is not None:
            tier = max(tier, t.outcome.tier) if tier is not None else Tier(t.outcome.tier)
    reasons = list(state.reasons) if state is not None and tier is not None else []
    return tier, reasons, turns


def testcase_run(case: SavedConversation, *, content: Content | None = None) -> Result:
    """Run one saved conversation with the current content and record the result on it."""
    content = content or content_load()
    tier, reasons, turns = testcase_replay(
        case.text_list, language=case.language, uk_number=case.uk_number, content=content
    )
    result = Result(
        case=case,
        passed=tier is not None and tier == case.expected_tier,
        tier=tier,
        rule_ids=reasons,
        turns=turns,
        content_version=content.version,
    )
    case.last_run_at = timezone.now()
    case.last_passed = result.passed
    case.last_result = result.transcript()
    case.save(update_fields=["last_run_at", "last_passed", "last_result"])
    return result


def testcases_run(cases: Iterable[SavedConversation] | None = None) -> list[Result]:
    """Run several (all by default) against one snapshot of the content."""
    content = content_load()
    if cases is None:
        cases = SavedConversation.objects.order_by("name")
    return [testcase_run(case, content=content) for case in cases]
