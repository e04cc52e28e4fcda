"""{% content_checks %}: the pre-publish checks box at the top of each content admin page.

Red with the problems (each linking to what to fix), amber with warnings only, green when the
content passes every check (clinic/checks.py). A check that crashes shows as a red box rather
than taking the content pages down with it.
"""

from __future__ import annotations

import logging

from django import template

from clinic.checks import content_problems

log = logging.getLogger(__name__)
register = template.Library()

SHOWN = 40  # problems listed on a page; the rest are counted


@register.inclusion_tag("clinic/checks_box.html", takes_context=True)
def content_checks(context) -> dict:
    request = context.get("request")
    here = request.path if request is not None else ""
    try:
        problems = content_problems()
    except Exception:
        log.exception("pre-publish checks failed")
        return {"failed": True}
    errors = [p for p in problems if p.is_error]
    return {
        "failed": False,
        "problems": [(p, p.url == here) for p in problems[:SHOWN]],
        "hidden": max(len(problems) - SHOWN, 0),
        "errors": len(errors),
        "warnings": len(problems) - len(errors),
    }
