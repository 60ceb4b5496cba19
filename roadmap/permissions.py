"""What each role may do in the roadmap (collected by accounts.roles)."""

from accounts.roles import APPROVER, EDITOR, READER, REPORTER

CONTENT_MODELS = ("focusarea", "need", "nationalinitiative", "cityaction", "nextstep")
READ = [("roadmap", f"view_{m}") for m in ("revision", *CONTENT_MODELS)]

ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    EDITOR: [
        *READ,
        ("roadmap", "add_revision"),
        ("roadmap", "change_revision"),
        ("roadmap", "start_revision"),
        ("roadmap", "submit_revision"),
        ("roadmap", "view_timehorizon"),
        ("roadmap", "view_organisation"),
        *[
            ("roadmap", f"{action}_{m}")
            for m in CONTENT_MODELS
            for action in ("add", "change", "delete")
        ],
    ],
    APPROVER: [
        *READ,
        ("roadmap", "change_revision"),
        ("roadmap", "approve_revision"),
        ("roadmap", "view_timehorizon"),
        ("roadmap", "view_organisation"),
    ],
    REPORTER: READ,
    READER: READ,
}
