from django.urls import path

from . import views

app_name = "roadmap"

urlpatterns = [
    path("", views.revision_current_view, name="current"),
    path("revisioner/<int:year>/", views.revision_detail_view, name="detail"),
]
