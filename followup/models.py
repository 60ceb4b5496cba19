"""Reporting periods, status reports and PDF report jobs (to come)."""
