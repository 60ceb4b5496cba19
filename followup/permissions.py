"""What each role may do in the follow-up (collected by accounts.roles)."""

from accounts.roles import APPROVER, EDITOR, READER, REPORTER

READ = [
    ("followup", "view_followup"),
    ("followup", "view_reportingperiod"),
    ("followup", "view_statusreport"),
    ("followup", "view_status"),
]

ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    EDITOR: [
        *READ,
        ("followup", "manage_periods"),
        ("followup", "add_reportingperiod"),
        ("followup", "change_reportingperiod"),
        ("followup", "add_status"),
        ("followup", "change_status"),
        ("followup", "request_reports"),
    ],
    APPROVER: READ,
    REPORTER: [("followup", "report_status")],
    READER: READ,
}
