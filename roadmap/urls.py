from django.urls import path

from . import views, views_redline

app_name = "roadmap"

urlpatterns = [
    path("", views.revision_current_view, name="current"),
    path("revisioner/", views.revision_list_view, name="list"),
    path("revisioner/starta/", views.revision_start_view, name="start"),
    path("revisioner/<int:year>/", views.revision_detail_view, name="detail"),
    path("revisioner/<int:year>/skicka/", views.revision_submit_view, name="submit"),
    path("revisioner/<int:year>/returnera/", views.revision_return_view, name="return"),
    path("revisioner/<int:year>/faststall/", views.revision_approve_view, name="approve"),
    path("revisioner/<int:year>/jamforelse/", views_redline.redline_view, name="redline"),
    path(
        "revisioner/<int:year>/jamforelse.csv", views_redline.redline_csv_view, name="redline_csv"
    ),
    path("revisioner/<int:year>/forfallna/", views.revision_overdue_view, name="overdue"),
]
