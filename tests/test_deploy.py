"""The project's deployment files: docker-compose, settings profiles, README."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

BASE = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent


def _compose() -> dict:
    return yaml.safe_load((BASE / "docker-compose.yml").read_text(encoding="utf-8"))


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else command.split()


def test_compose_defines_the_full_stack():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["FARDPLAN_ENV"] == "production"


def test_compose_commands_exist():
    services = _compose()["services"]
    web = " ".join(_command(services["web"]))
    assert "gunicorn fardplan.wsgi:application" in web
    assert (BIN / "gunicorn").exists()
    for name in ("migrate", "load_roadmap"):
        assert f"manage.py {name}" in web
        assert name in get_commands()
    for name in ("worker", "beat"):
        command = _command(services[name])
        assert command[:3] == ["celery", "-A", "fardplan"]
        assert command[3] == name
        assert (BIN / "celery").exists()


def test_compose_commands_are_the_readme_commands():
    readme = (BASE / "README.md").read_text(encoding="utf-8")
    assert "gunicorn fardplan.wsgi:application" in readme
    assert "celery -A fardplan worker" in readme
    assert "celery -A fardplan beat" in readme


def test_wsgi_and_celery_apps_import():
    from fardplan import celery_app
    from fardplan.wsgi import application

    assert callable(application)
    assert celery_app.main == "fardplan"


def _run_settings(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    for key in ("FARDPLAN_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "CELERY_BROKER_URL"):
        clean.pop(key, None)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run_settings({"FARDPLAN_ENV": "production", "ALLOWED_HOSTS": "x.example"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _run_settings({"FARDPLAN_ENV": "production", "SECRET_KEY": "k" * 60}, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_refuses_debug():
    env = {
        "FARDPLAN_ENV": "production",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "x.example",
        "DEBUG": "true",
    }
    result = _run_settings(env, "check")
    assert result.returncode != 0
    assert "DEBUG must not be true" in result.stderr


def test_unknown_environment_name_is_refused():
    result = _run_settings({"FARDPLAN_ENV": "prod"}, "check")
    assert result.returncode != 0
    assert "FARDPLAN_ENV must be" in result.stderr


def test_production_settings_pass_check_deploy():
    env = {
        "FARDPLAN_ENV": "production",
        "SECRET_KEY": "a-long-random-production-key-for-the-check-0123456789-abcdefghijkl",
        "ALLOWED_HOSTS": "fardplan.example.org",
    }
    result = _run_settings(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("settings.DATABASES['default']['ENGINE']", "django.db.backends.sqlite3"),
        ("str(settings.DATABASES['default']['NAME']).endswith('var/fardplan.sqlite3')", "True"),
        ("settings.CELERY_TASK_ALWAYS_EAGER", "True"),
        ("settings.CELERY_TASK_EAGER_PROPAGATES", "True"),
        ("settings.LANGUAGE_CODE", "sv"),
        ("settings.TIME_ZONE", "Europe/Stockholm"),
        ("settings.EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
    ],
)
def test_embedded_default_with_nothing_set(expression, expected):
    code = f"from django.conf import settings; print({expression})"
    result = _run_settings({}, "shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_database_and_broker_urls_switch_backends():
    env = {
        "DATABASE_URL": "postgres://u@db.example:5432/fardplan",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = _run_settings(env, "shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


def test_env_example_documents_every_variable():
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (BASE / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("# ")
    }
    source = (BASE / "fardplan" / "settings.py").read_text(encoding="utf-8")
    import re

    used = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source))
    used |= set(re.findall(r'_required\("([A-Z_]+)"\)', source))
    assert used, "no variables found in settings"
    assert used <= documented, sorted(used - documented)


def test_filesystem_broker_needs_no_server(tmp_path):
    """`make run`'s broker: real workers, the queue as files under one folder."""
    env = {"CELERY_BROKER_URL": "filesystem://", "CELERY_FILESYSTEM_FOLDER": str(tmp_path)}
    code = (
        "from django.conf import settings; from fardplan.health import broker_status; "
        "o = settings.CELERY_BROKER_TRANSPORT_OPTIONS; "
        "print(settings.CELERY_TASK_ALWAYS_EAGER, o['data_folder_in'] == o['data_folder_out'], "
        "o['data_folder_in'], broker_status())"
    )
    result = _run_settings(env, "shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", str(tmp_path / "queue"), "ok"]
    assert {p.name for p in tmp_path.iterdir()} == {"queue", "control", "processed"}


def test_make_run_starts_the_server_with_a_worker():
    makefile = (BASE / "Makefile").read_text(encoding="utf-8")
    assert "DEV_BROKER ?= filesystem://" in makefile
    assert "manage.py runall" in makefile
    assert "runall" in get_commands()
