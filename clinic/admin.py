"""The clinic's admin pages; each feature registers its own in a module of its own."""

# export: the Conversation admin again, with CSV exports.
from clinic import admin_alerts, admin_saved, export  # noqa: F401  (register their ModelAdmins)
