"""`make provision` against the local Airtable: creates the base, is idempotent, reports drift."""

from __future__ import annotations


from schemas.base import BASE
from commands import provision as command
from local.emulator import EmulatorControl
from shared.airtable import AirtableGateway
from shared.airtable.pacer import RequestPacer
from shared.provision import provision
from shared.settings import isolated_settings, use_settings


def test_first_run_creates_every_table_field_and_link(gateway):
    report = provision(gateway)
    assert report.drift == []
    schema = gateway.base.schema(force=True)
    assert [t.name for t in schema.tables] == [t.label for t in BASE]
    for spec in BASE:
        table = schema.table(spec.label)
        assert sorted(f.name for f in table.fields) == sorted(f.label for f in spec.fields)
        assert table.fields[0].name == spec.primary.label
        for wanted in spec.fields:
            found = table.field(wanted.label)
            assert str(found.type.value) == wanted.type
            if wanted.choices:
                assert [c.name for c in found.options.choices] == list(wanted.choices)
            if wanted.links_to:
                assert found.options.linked_table_id == schema.table(
                    next(t.label for t in BASE if t.key == wanted.links_to)).id


def test_second_run_changes_nothing_and_says_so(gateway):
    provision(gateway)
    gateway.requests.clear()
    report = provision(gateway)
    assert report.lines() == ["Base à jour : rien à changer."]
    assert set(gateway.requests) == {"GET"}  # schema reads only


def test_missing_fields_are_completed(api, gateway, emulator):
    volunteers = api.base("appTestBase000001").create_table("Bénévoles", [{"name": "Nom complet", "type": "singleLineText"}])
    volunteers.create({"Nom complet": "Déjà là"})
    report = provision(gateway)
    assert "Champ « Email » ajouté à « Bénévoles »." in report.changes
    assert volunteers.all()[0]["fields"] == {"Nom complet": "Déjà là"}


def test_drift_is_reported_not_touched(api, gateway):
    base = api.base("appTestBase000001")
    base.create_table("Journal", [{"name": "Événement", "type": "singleLineText"},
                                  {"name": "Statut", "type": "singleLineText"}])
    report = provision(gateway)
    assert any("« Journal.Statut » est de type singleLineText, attendu singleSelect." == d for d in report.drift)
    assert base.schema(force=True).table("Journal").field("Statut").type.value == "singleLineText"


def test_missing_select_options_are_drift(api, gateway):
    api.base("appTestBase000001").create_table("Journal", [
        {"name": "Événement", "type": "singleLineText"},
        {"name": "Statut", "type": "singleSelect", "options": {"choices": [{"name": "Traité"}]}}])
    report = provision(gateway)
    assert "« Journal.Statut » n'a pas les options : Mis à jour, Rejeté, Erreur." in report.drift


def test_local_base_is_created_once(emulator):
    control = EmulatorControl(emulator.url)
    assert control.ensure_base("appFreshBase00001") is True
    assert control.ensure_base("appFreshBase00001") is False


def test_command_exit_codes(emulator, monkeypatch, capsys):
    monkeypatch.setattr(command, "AirtableGateway",
                        lambda settings: AirtableGateway(settings, pacer=RequestPacer(limit=1000)))
    previous = use_settings(isolated_settings(BINOME_EMULATOR_PORT=emulator.server.port,
                                              AIRTABLE_BASE_ID="appCommandBase001"))
    try:
        assert command.main() == 0
        assert "Table « Journal » créée" in capsys.readouterr().out
        assert command.main() == 0
        assert capsys.readouterr().out.strip() == "Base à jour : rien à changer."
        use_settings(isolated_settings(BINOME_EMULATOR_PORT=1))  # nothing listens there
        assert command.main() == 1
        assert "make run" in capsys.readouterr().err
    finally:
        use_settings(previous)
