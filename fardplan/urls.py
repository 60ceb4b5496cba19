from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import home

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("start/", home.home_view, name="home"),
    path("start/oversikt/", home.work_overview_view, name="work_overview"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("uppfoljning/", include("followup.urls")),
    path("", include("roadmap.urls")),
]
