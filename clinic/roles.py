"""Staff roles as Django groups: what each may see and do in admin.

The groups are created (and brought up to date) by migrations that call `roles_sync`; a change
to this table needs a new migration calling it again. Superusers have every permission.
"""

from __future__ import annotations

CONTENT_EDITOR = "Content editor"
CLINICIAN = "Clinician"
SUPPORT = "Support"

_CRUD = ("add", "change", "delete", "view")

# group -> {(app_label, model): actions or full codenames}
ROLES: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    # Every word the service sends and the rules and plans behind them; no person's data.
    CONTENT_EDITOR: {
        ("triage", "contentmessage"): _CRUD,
        ("triage", "answerword"): _CRUD,
        ("triage", "keyword"): _CRUD,
        ("triage", "rule"): ("change", "view"),  # a rule's condition is code: no add/delete
        ("triage", "contentversion"): ("view",),
        ("reminders", "checkinstep"): _CRUD,
        ("reminders", "sendingwindow"): ("change", "view"),
        ("clinic", "savedconversation"): (*_CRUD, "use_simulator"),
    },
    # People, their conversations, outcomes, check-ins and alerts; no content.
    CLINICIAN: {
        ("triage", "person"): ("view", "change", "opt_out_person"),
        ("triage", "conversation"): ("view", "export_conversation"),
        ("triage", "message"): ("view", "resend_message"),
        ("reminders", "checkin"): ("view", "change"),
        ("clinic", "alert"): ("view", "change", "view_dashboard"),
        ("clinic", "savedconversation"): ("use_simulator",),
    },
    # A person's subscription and deletion: opt out, cancel check-ins, erase. No transcripts,
    # outcomes or answers.
    SUPPORT: {
        ("triage", "person"): ("view", "opt_out_person", "erase_person"),
        ("reminders", "checkin"): ("change",),
    },
}


def codenames(app_label: str, model: str, actions: tuple[str, ...]) -> list[str]:
    return [a if "_" in a else f"{a}_{model}" for a in actions]


def roles_sync(apps) -> None:
    """Create the groups and set exactly the permissions above (used by migrations)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; a fresh database needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, table in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for (app_label, model), actions in table.items():
            for codename in codenames(app_label, model, actions):
                wanted.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
        group.permissions.set(wanted)
