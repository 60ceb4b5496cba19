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
    # Those who read the follow-up may also ask for a fresh annual follow-up
    # report, and for nothing else: no other kind, and no new rendering of
    # unchanged data (report_may_request, report_may_force).
    APPROVER: [*READ, ("followup", "request_annual_report")],
    REPORTER: [("followup", "report_status")],
    READER: [*READ, ("followup", "request_annual_report")],
}
