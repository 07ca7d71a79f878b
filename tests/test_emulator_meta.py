"""The Meta API of the local Airtable, through pyairtable's Base and Table schema methods."""

from __future__ import annotations

import pytest
import requests
from pyairtable import Api

from emulators.app import create_app
from emulators.server import BackgroundServer
from tests.conftest import BASE_ID, PEOPLE_FIELDS


def test_schema_lists_tables_fields_and_views(api, people):
    schema = api.base(BASE_ID).schema(force=True)
    assert [t.name for t in schema.tables] == ["People", "Pets"]
    table = schema.table("People")
    assert table.primary_field_id == table.fields[0].id and table.fields[0].name == "Name"
    assert [f.name for f in table.fields] == [f["name"] for f in PEOPLE_FIELDS] + ["Pets"]
    assert table.views[0].type == "grid"
    assert table.views[0].visible_field_ids == [f.id for f in table.fields]
    seen = table.field("Seen")
    assert seen.options.time_zone == "Europe/Paris" and seen.options.time_format.format == "HH:mm"
    assert [c.name for c in table.field("Subjects").options.choices] == ["Maths", "Français", "Anglais"]
    assert all(c.id.startswith("sel") for c in table.field("Level").options.choices)


def test_create_field_and_its_inverse_link(api, people):
    pets_schema = api.base(BASE_ID).schema(force=True).table("Pets")
    owner = pets_schema.field("Owner")
    inverse = people.schema(force=True).field(owner.options.inverse_link_field_id)
    assert inverse.name == "Pets" and inverse.options.linked_table_id == pets_schema.id
    assert inverse.options.inverse_link_field_id == owner.id
    created = people.create_field("Comment", "multilineText", description="Libre")
    assert people.schema(force=True).field("Comment").id == created.id


def test_inverse_link_name_avoids_taken_names(api, people):
    pets = api.base(BASE_ID).table("Pets")
    pets.create_field("Sitter", "multipleRecordLinks", options={"linkedTableId": people.id})
    names = [f.name for f in people.schema(force=True).fields]
    assert names[-2:] == ["Pets", "Pets 2"]


def test_rename_a_field_keeps_its_data(api, people):
    record = people.create({"Notes": "garder"})
    field = people.schema(force=True).field("Notes")
    field.name = "Commentaire"
    field.save()
    assert people.get(record["id"])["fields"] == {"Commentaire": "garder"}


def test_meta_errors(api, people):
    base = api.base(BASE_ID)
    for call, error_type in [
        (lambda: base.create_table("people", [{"name": "N", "type": "singleLineText"}]), "DUPLICATE_TABLE_NAME"),
        (lambda: people.create_field("name", "singleLineText"), "DUPLICATE_OR_EMPTY_FIELD_NAME"),
        (lambda: people.create_field("F", "formula"), "INVALID_FIELD_TYPE_OR_OPTIONS"),
        (lambda: people.create_field("N2", "number"), "INVALID_FIELD_TYPE_OR_OPTIONS"),
        (lambda: people.create_field("L", "multipleRecordLinks", options={"linkedTableId": "tblNope"}),
         "INVALID_FIELD_TYPE_OR_OPTIONS"),
    ]:
        with pytest.raises(requests.HTTPError) as excinfo:
            call()
        assert excinfo.value.response.status_code == 422
        assert excinfo.value.response.json()["error"]["type"] == error_type


def test_file_store_survives_a_restart(tmp_path):
    db = str(tmp_path / "airtable.sqlite3")
    with BackgroundServer(create_app(db_path=db, airtable_rate_limit=None)) as server:
        requests.put(f"{server.url}/_emulator/airtable/bases/{BASE_ID}", timeout=5).raise_for_status()
        table = Api("t", endpoint_url=f"{server.url}/airtable").base(BASE_ID).create_table(
            "People", PEOPLE_FIELDS[:6])
        ann = table.create({"Name": "Ann", "Level": "6e"})
        table.create({"Level": "Nouveau"}, typecast=True)
    with BackgroundServer(create_app(db_path=db, airtable_rate_limit=None)) as server:
        table = Api("t", endpoint_url=f"{server.url}/airtable").table(BASE_ID, "People")
        assert table.get(ann["id"]) == ann
        assert "Nouveau" in [c.name for c in table.schema().field("Level").options.choices]
        assert len(table.all()) == 2
