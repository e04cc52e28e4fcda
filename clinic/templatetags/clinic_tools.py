"""{% clinic_tools as tools %}: the clinic's own pages a staff member may open, for the admin
index's "Clinic tools" box.

A page shows only with its permission, and only if its URL exists: a page not (yet) routed is
left out rather than breaking the admin's front page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@dataclass(frozen=True)
class Tool:
    name: str
    url: str
    description: str


# (URL name, permission, name, what it is for)
TOOLS = (
    (
        "clinic:dashboard",
        "clinic.view_dashboard",
        "Dashboard",
        "Outcomes by tier, time to outcome, check-in replies, opt-outs and delivery failures.",
    ),
    (
        "clinic:simulator",
        "clinic.use_simulator",
        "Simulator",
        "Text the service as a person would, with nothing sent to a phone.",
    ),
)


@register.simple_tag(takes_context=True)
def clinic_tools(context: template.Context) -> list[Tool]:
    user = getattr(context.get("request"), "user", None) or context.get("user")
    if user is None:
        return []
    tools = []
    for url_name, permission, name, description in TOOLS:
        if not user.has_perm(permission):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        tools.append(Tool(name=name, url=url, description=description))
    return tools
