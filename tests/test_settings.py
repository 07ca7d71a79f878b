"""Settings: offline defaults in local mode, a refusal naming every problem in production."""

from __future__ import annotations

import pytest

from shared.settings import PRODUCTION_REQUIRED, ConfigurationError, Settings, load_settings

PRODUCTION = {
    "AIRTABLE_TOKEN": "patProd.secret", "AIRTABLE_BASE_ID": "appProdBase000001",
    "AIRTABLE_ENDPOINT_URL": "https://api.airtable.com",
    "TYPEFORM_SECRET": "tf-secret", "TYPEFORM_TOKEN": "tfp_token", "TYPEFORM_API_URL": "https://api.typeform.com",
    "TYPEFORM_FORM_VOLUNTEER": "AbCdEf12", "TYPEFORM_FORM_STRUCTURE": "GhIjKl34", "TYPEFORM_FORM_CHECKIN": "MnOpQr56",
    "SENDGRID_API_KEY": "SG.prod", "SENDGRID_HOST": "https://api.sendgrid.com", "SENDGRID_FROM": "contact@collectif.org",
    "SENDGRID_EVENT_PUBLIC_KEY": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEprodkey",
    "COORDINATION_EMAIL": "coordination@collectif.org",
    "DOCUSIGN_HOST": "https://eu.docusign.net/restapi", "DOCUSIGN_ACCOUNT_ID": "prod-account",
    "DOCUSIGN_INTEGRATION_KEY": "prod-ik", "DOCUSIGN_USER_ID": "prod-user", "DOCUSIGN_PRIVATE_KEY": "-----BEGIN RSA…",
    "DOCUSIGN_OAUTH_HOST": "account.docusign.com", "DOCUSIGN_TEMPLATE_VOLUNTEER": "tpl-v",
    "DOCUSIGN_TEMPLATE_CHARTER": "tpl-c", "DOCUSIGN_CONNECT_KEY": "connect-key",
    "AUTOMATION_SECRET": "automation", "LINK_SECRET": "links", "PUBLIC_URL": "https://binome.collectif.org",
    "BINOME_AIRTABLE_BUDGET_URL": "redis://:budget-auth@10.20.0.3:6379/0",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_local_defaults_point_at_the_emulators():
    settings = load_settings()
    assert settings.AIRTABLE_ENDPOINT_URL == "http://127.0.0.1:8787/airtable"
    assert settings.TYPEFORM_API_URL == "http://127.0.0.1:8787/typeform"
    assert settings.SENDGRID_HOST == "http://127.0.0.1:8787/sendgrid"
    assert settings.DOCUSIGN_HOST == "http://127.0.0.1:8787/docusign/restapi"
    assert settings.PUBLIC_URL == "http://127.0.0.1:8080"


def test_ports_move_every_local_endpoint(monkeypatch):
    monkeypatch.setenv("BINOME_EMULATOR_PORT", "9900")
    monkeypatch.setenv("BINOME_FUNCTIONS_PORT", "9901")
    settings = load_settings()
    assert settings.AIRTABLE_ENDPOINT_URL == "http://127.0.0.1:9900/airtable"
    assert settings.PUBLIC_URL == "http://127.0.0.1:9901"


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("AIRTABLE_BASE_ID=appFromDotEnv0001\n")
    assert load_settings().AIRTABLE_BASE_ID == "appFromDotEnv0001"


def test_production_names_every_missing_variable(monkeypatch):
    monkeypatch.setenv("BINOME_ENV", "production")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    for name in PRODUCTION_REQUIRED:
        assert f"{name} (manquante)" in str(excinfo.value)


def test_production_refuses_a_penalty_shorter_than_airtables(monkeypatch):
    monkeypatch.setenv("BINOME_ENV", "production")
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BINOME_AIRTABLE_PENALTY", "1")
    with pytest.raises(ConfigurationError, match="BINOME_AIRTABLE_PENALTY"):
        load_settings()


@pytest.mark.parametrize("url, problem", [
    ("", "BINOME_AIRTABLE_BUDGET_URL (manquante)"),
    ("https://budget.example.org", "BINOME_AIRTABLE_BUDGET_URL (le budget partagé des instances : une adresse"),
    ("redis://127.0.0.1:6379/0", "BINOME_AIRTABLE_BUDGET_URL (adresse locale"),
])
def test_production_refuses_to_pace_each_instance_alone(monkeypatch, url, problem):
    """Without the shared budget every instance would take the base's 5 requests/s for itself."""
    monkeypatch.setenv("BINOME_ENV", "production")
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BINOME_AIRTABLE_BUDGET_URL", url)
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert problem in str(excinfo.value)


def test_production_refuses_development_values_and_local_addresses(monkeypatch):
    monkeypatch.setenv("BINOME_ENV", "production")
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LINK_SECRET", "dev-link-secret")
    monkeypatch.setenv("AIRTABLE_ENDPOINT_URL", "http://127.0.0.1:8787/airtable")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert "LINK_SECRET (valeur de développement)" in message
    assert "AIRTABLE_ENDPOINT_URL (adresse locale" in message
    assert "AUTOMATION_SECRET" not in message


def test_production_starts_when_everything_is_set(monkeypatch):
    monkeypatch.setenv("BINOME_ENV", "production")
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert load_settings().AIRTABLE_ENDPOINT_URL == "https://api.airtable.com"


def test_every_production_variable_is_covered_by_the_fixture():
    assert set(PRODUCTION) == set(PRODUCTION_REQUIRED)


@pytest.mark.parametrize("environment", ["local", "production"])
def test_an_empty_verifying_secret_is_refused_in_every_environment(monkeypatch, environment):
    monkeypatch.setenv("BINOME_ENV", environment)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TYPEFORM_SECRET", "")
    monkeypatch.setenv("AUTOMATION_SECRET", "  ")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()
    assert "TYPEFORM_SECRET (vide)" in str(excinfo.value) and "AUTOMATION_SECRET (vide)" in str(excinfo.value)


def test_an_empty_secret_verifies_nothing():
    from shared.signatures import sign_typeform, verify_bearer, verify_typeform

    assert not verify_bearer("", "Bearer ") and not verify_bearer("", "Bearer")
    assert not verify_typeform("", b"{}", sign_typeform("", b"{}"))
    assert verify_bearer("s3cret", "Bearer s3cret") and verify_typeform("k", b"{}", sign_typeform("k", b"{}"))


def test_isolated_settings_ignore_the_environment_and_dotenv(monkeypatch, tmp_path):
    from shared.settings import isolated_settings

    monkeypatch.setenv("AIRTABLE_ENDPOINT_URL", "https://api.airtable.com")
    monkeypatch.setenv("BINOME_EMULATOR_PORT", "18787")
    (tmp_path / ".env").write_text("AIRTABLE_BASE_ID=appFromDotEnv0001\n")
    settings = isolated_settings(BINOME_EMULATOR_PORT=9999)
    assert settings.AIRTABLE_ENDPOINT_URL == "http://127.0.0.1:9999/airtable"
    assert settings.AIRTABLE_BASE_ID == "appBinomeLocal001"
    assert settings.rebuilt(BINOME_EMULATOR_PORT=9998).AIRTABLE_ENDPOINT_URL == "http://127.0.0.1:9998/airtable"
