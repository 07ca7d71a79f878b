"""The routing table of several bases: parsing (compact and JSON), what it refuses and why (in
French: a person reads these when the functions refuse to start), routing by département, the
default base, and the settings each base's services are built on."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schemas.bases import SINGLE, RoutingError, RoutingTable, parse
from shared.intake.routing import base_of_delivery, base_of_postcode
from shared.settings import isolated_settings

A, B, C = "appIdfBinome00001", "appSudBinome00001", "appNordBinome0001"
TWO = f"idf={A}:75,92,93,94;sud={B}:69,13,*"


def test_the_compact_form_routes_by_departement_and_the_default_takes_the_rest():
    table = parse(TWO)
    assert table.keys == ["idf", "sud"] and table.several and table.default.key == "sud"
    assert table.for_departement("92").key == "idf" and table.for_departement("13").key == "sud"
    assert table.for_departement("29").key == "sud" and table.for_departement("").key == "sud"
    assert base_of_postcode(table, "75011").key == "idf" and base_of_postcode(table, "69003").key == "sud"
    assert base_of_postcode(table, "99999").key == "sud"  # no such postcode: the default base
    assert base_of_postcode(table, "20000").key == "sud"  # Corsica (2A): covered by nobody but the default


def test_the_json_form_says_the_same():
    written = json.dumps([{"key": "idf", "base_id": A, "departements": ["75", "92", "93", "94"]},
                          {"key": "sud", "base_id": B, "departements": ["69", "13"], "default": True}])
    assert parse(written) == parse(TWO)


@pytest.mark.parametrize("text, reason", [
    (f"idf={A}:75,92;sud={B}:92,*", "le département 92 est couvert par deux bases (idf et sud)"),
    (f"idf={A}:75,96;sud={B}:*", "département(s) inconnu(s) : 96"),
    (f"idf={A}:75;sud={B}:69", "il faut exactement une base par défaut"),
    (f"idf={A}:75,*;sud={B}:*", "il faut exactement une base par défaut"),
    (f"idf={A}:75;sud={A}:*", "identifiant de base en double : " + A),
    (f"idf={A}:75;idf={B}:*", "clé en double : idf"),
    (f"idf=appTropCourt:75;sud={B}:*", "base_id : valeur 'appTropCourt' mal formée"),
    (f"Île-de-France={A}:75;sud={B}:*", "key : valeur 'Île-de-France' mal formée"),
    (f"idf {A} 75;sud={B}:*", "ne suit pas la forme clé=appXXXXXXXXXXXXXX:75,92"),
    ('[{"key": "idf", "base_id": ', "JSON illisible"),
    ('[["idf"]]', "une liste d'objets {key, base_id, departements, default} est attendue"),
    ("", "aucune base"),
])
def test_unusable_tables_are_refused_with_a_reason_a_person_can_read(text, reason):
    with pytest.raises(RoutingError) as refused:
        parse(text)
    assert str(refused.value).startswith("BINOME_BASES : ") and reason in str(refused.value)


def test_the_settings_refuse_to_start_on_an_unusable_table():
    with pytest.raises(ValidationError, match="le département 92 est couvert par deux bases"):
        isolated_settings(BINOME_BASES=f"idf={A}:75,92;sud={B}:92,*")


def test_unset_the_one_base_of_airtable_base_id_covers_everything():
    settings = isolated_settings(AIRTABLE_BASE_ID=C, BINOME_INTAKE_QUEUE="projects/p/locations/l/queues/q")
    table = settings.bases
    assert table == RoutingTable.single(C) and not table.several and table.default.key == SINGLE
    assert table.for_departement("75").base_id == C
    assert settings.for_base(table.default) is settings  # nothing rebuilt: every behaviour as before


def test_each_base_gets_its_own_base_id_and_queue():
    settings = isolated_settings(BINOME_BASES=TWO, BINOME_INTAKE_QUEUE="projects/p/locations/l/queues/q")
    idf, sud = (settings.for_base(settings.bases.get(key)) for key in ("idf", "sud"))
    assert (idf.AIRTABLE_BASE_ID, idf.BINOME_INTAKE_QUEUE) == (A, "projects/p/locations/l/queues/q-idf")
    assert (sud.AIRTABLE_BASE_ID, sud.BINOME_INTAKE_QUEUE) == (B, "projects/p/locations/l/queues/q-sud")
    assert idf.BINOME_BASES == TWO  # each base's settings still know the whole table


def test_naming_a_base_the_table_does_not_know_is_an_error_and_known_falls_back_to_the_default():
    table = parse(TWO)
    with pytest.raises(RoutingError, match="Base inconnue : « nord » \\(bases : idf, sud\\)"):
        table.get("nord")
    assert table.get(None).key == "sud" and table.known("nord").key == "sud" and table.known("idf").key == "idf"


def delivery(form_id: str, answers: list[dict], hidden: dict | None = None) -> bytes:
    return json.dumps({"event_type": "form_response", "form_response": {
        "form_id": form_id, "token": "t", "answers": answers, "hidden": hidden or {}}}).encode()


def test_a_delivery_is_routed_by_its_postcode_or_its_check_in_link_and_else_to_the_default():
    settings = isolated_settings(BINOME_BASES=TWO)
    postcode = [{"type": "text", "text": "92100", "field": {"ref": "postcode", "type": "short_text"}}]
    forms = settings.form_ids
    assert base_of_delivery(delivery(forms["volunteer"], postcode), settings).key == "idf"
    assert base_of_delivery(delivery(forms["structure"], postcode), settings).key == "idf"
    assert base_of_delivery(delivery(forms["volunteer"], []), settings).key == "sud"
    assert base_of_delivery(delivery(forms["checkin"], [], {"base": "idf"}), settings).key == "idf"
    assert base_of_delivery(delivery(forms["checkin"], [], {"base": "nord"}), settings).key == "sud"
    assert base_of_delivery(delivery("inconnu", postcode), settings).key == "sud"
    assert base_of_delivery(b"not json", settings).key == "sud"
