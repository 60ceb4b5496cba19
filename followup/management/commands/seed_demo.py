from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from followup.demo import demo_followup_build
from followup.models import ReportJob
from roadmap.demo import demo_draft_build
from roadmap.models import Organisation
from roadmap.reference import reference_load_missing

# (username, full name, role, organisation codes, password)
DEMO_USERS = [
    ("redaktor", "Demo Redaktör", roles.EDITOR, ["aldrenamnden"], "demo-redaktor"),
    ("godkannare", "Demo Godkännare", roles.APPROVER, ["aldrenamnden"], "demo-godkannare"),
    ("rapportor-bromma", "Demo Rapportör Bromma", roles.REPORTER, ["bromma"], "demo-bromma"),
    ("rapportor-farsta", "Demo Rapportör Farsta", roles.REPORTER, ["farsta"], "demo-farsta"),
    ("lasare", "Demo Läsare", roles.READER, [], "demo-lasare"),
]


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent). Never run in production."

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo körs aldrig med produktionsinställningar.")
        reference_load_missing("time_horizons", "organisations", "statuses")
        roles.sync_roles()
        User = get_user_model()
        with transaction.atomic():
            for username, full_name, role, org_codes, password in DEMO_USERS:
                user, _ = User.objects.get_or_create(username=username)
                first, last = full_name.split(" ", 1)
                user.first_name, user.last_name = first, last
                user.is_staff = role in roles.STAFF_ROLES
                user.is_superuser = False
                user.set_password(password)
                user.save()
                user.groups.set([Group.objects.get(name=role)])
                user.organisations.set(Organisation.objects.filter(code__in=org_codes))
        editor = User.objects.get(username="redaktor")
        draft = demo_draft_build(actor=editor)
        if draft is not None:
            self.stdout.write(f"Created the example draft: {draft}")
        periods = demo_followup_build(actor=editor)
        if periods:
            self.stdout.write(f"Created {periods} demo reporting periods with demo reports.")
            # Closing the annual period queued the year's annual report: with a
            # broker the worker renders it, without one it was rendered here.
            for job in ReportJob.objects.filter(kind=ReportJob.Kind.ANNUAL):
                year = job.parameters.get("year")
                self.stdout.write(f"Annual follow-up report {year}: {job.state}")
        self.stdout.write("Demo users (user name / password / role):")
        for username, _full, role, org_codes, password in DEMO_USERS:
            orgs = f" ({', '.join(org_codes)})" if org_codes else ""
            self.stdout.write(f"  {username:<18} {password:<16} {role}{orgs}")
