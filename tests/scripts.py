"""Patient scripts shared by tests: texts that take a person to a known outcome."""

from __future__ import annotations

# A strain after lifting, easing, 3 days, 30 years old, no warning signs: ROUTINE (R01), with
# check-ins at 2 and 6 weeks.
ROUTINE_EN = [
    "my upper back hurts after lifting a box",
    "no",
    "no",
    "none",
    "3 better",
    "3 days, lifting, 30",
    "none",
]
