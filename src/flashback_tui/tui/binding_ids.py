"""Every binding id of the screens and widgets (the App adds its own): what a keymap may name."""

from __future__ import annotations

import importlib

#: Modules whose screens (and widgets) declare bindings, with the classes to read.
_SOURCES = (
    ("flashback_tui.tui.screens.config_list", ("ConfigListScreen",)),
    ("flashback_tui.tui.screens.config_detail", ("ConfigDetailScreen",)),
    ("flashback_tui.tui.screens.config_form", ("ConfigFormScreen", "RotateSecretDialog")),
    ("flashback_tui.tui.screens.confirm", ("ConfirmDialog",)),
    ("flashback_tui.tui.screens.delete_dialog", ("DeleteConfigDialog",)),
    ("flashback_tui.tui.screens.workspaces", ("WorkspacesScreen",)),
    ("flashback_tui.tui.screens.stats", ("StatsScreen",)),
    ("flashback_tui.tui.screens.help", ("HelpScreen",)),
    ("flashback_tui.tui.screens.sign_in", ("SignInScreen",)),
    ("flashback_tui.tui.widgets.fast_table", ("FastTable",)),
    ("flashback_tui.tui.screens.repos", ("RepoListScreen",)),
    ("flashback_tui.tui.screens.repo_form", ("RepoFormScreen",)),
    ("flashback_tui.tui.screens.keys", ("KeyListScreen",)),
    ("flashback_tui.tui.screens.key_secret_dialog", ("KeyNameDialog", "KeySecretDialog")),
    ("flashback_tui.tui.screens.violations", ("ViolationListScreen",)),
    ("flashback_tui.tui.screens.policies", ("PolicyListScreen",)),
    ("flashback_tui.tui.screens.members", ("MemberListScreen",)),
    ("flashback_tui.tui.screens.events", ("EventListScreen",)),
    ("flashback_tui.tui.screens.event_filters", ("EventFiltersDialog",)),
    ("flashback_tui.tui.screens.member_dialog", ("MemberDialog",)),
    ("flashback_tui.tui.screens.policy_form", ("PolicyFormScreen",)),
    ("flashback_tui.tui.screens.policy_recommend", ("RecommendDialog",)),
    ("flashback_tui.tui.screens.violation_filters",
     ("ViolationFiltersDialog", "ViolationDetailDialog")),
)


def known_binding_ids() -> set[str]:
    """The ids of every binding declared by the app's classes (and their bases)."""
    ids: set[str] = set()
    for module_name, names in _SOURCES:
        module = importlib.import_module(module_name)
        for name in names:
            for cls in getattr(module, name).__mro__:
                for binding in getattr(cls, "BINDINGS", ()) or ():
                    binding_id = getattr(binding, "id", None)
                    if binding_id:
                        ids.add(binding_id)
    return ids
