from django.urls import path

from . import views_overview, views_reporter, views_reports

app_name = "followup"

urlpatterns = [
    path("mina-rapporter/", views_reporter.my_reports_view, name="my_reports"),
    path("", views_overview.period_list_view, name="periods"),
    path("perioder/<int:pk>/", views_overview.period_matrix_view, name="matrix"),
    path("perioder/<int:pk>/export.csv", views_overview.period_export_csv_view, name="export_csv"),
    path(
        "perioder/<int:pk>/export.xlsx", views_overview.period_export_xlsx_view, name="export_xlsx"
    ),
    path("perioder/<int:pk>/drift/", views_overview.period_drift_view, name="drift"),
    path("rapporter/<int:pk>/", views_overview.report_detail_view, name="report"),
    path("rapporter/<int:pk>/ateroppna/", views_overview.report_reopen_view, name="reopen"),
    path("pdf/", views_reports.report_list_view, name="reports"),
    path("pdf/<int:pk>/", views_reports.report_job_view, name="report_job"),
    path(
        "pdf/<int:pk>/status.json",
        views_reports.report_job_status_view,
        name="report_job_status",
    ),
    path("pdf/<int:pk>/fil/", views_reports.report_job_file_view, name="report_job_file"),
]
