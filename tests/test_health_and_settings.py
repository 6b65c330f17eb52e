import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_settings(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(env_overrides)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" in result.stderr or "ImproperlyConfigured" in result.stderr


def test_production_starts_with_a_secret_key_and_development_starts_without():
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "SITE_URL": "https://waymark.example"}
    assert run_settings(production).stdout.strip() == "False"
    assert run_settings({}).stdout.strip() == "True"


def test_production_refuses_to_start_without_its_public_address():
    result = run_settings({"DEBUG": "0", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "SITE_URL is not set" in result.stderr


def test_a_bad_boolean_is_named():
    result = run_settings({"DEBUG": "maybe"})
    assert result.returncode != 0 and "DEBUG='maybe' is not a boolean" in result.stderr


def test_deploy_checks_pass_in_production_mode():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "deploy-check-9f3Kq2-Zx7Lm4-Wv8Np1-Rt6Hs0-Yb5Gc3-Ud2Je9-Ok1Ia8-Pq",
            "SITE_URL": "https://waymark.example",
            "ALLOWED_HOSTS": "waymark.example",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2_and_older_hashes_upgraded_on_log_in(client, settings):
    """Argon2id for new passwords; an account hashed with PBKDF2 (Django's former default)
    still logs in, and its hash is replaced by an Argon2 one."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from config import settings as project

    settings.PASSWORD_HASHERS = project.PASSWORD_HASHERS  # not the tests' fast MD5
    user = get_user_model().objects.create_user("ada", "ada@example.com", "x")
    user.set_password("correct horse battery staple")
    assert user.password.startswith("argon2$argon2id$")
    old = PBKDF2PasswordHasher()
    user.password = old.encode("correct horse battery staple", old.salt())
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post(
        "/accounts/login/", {"login": "ada@example.com", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
