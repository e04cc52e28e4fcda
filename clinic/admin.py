"""The clinic's admin pages; each feature registers its own in a module of its own."""

from clinic import admin_alerts, admin_saved  # noqa: F401  (register their ModelAdmins)
