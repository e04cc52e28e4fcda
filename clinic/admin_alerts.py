"""Admin for clinician alerts (list, acknowledge)."""
