"""The real pyairtable client against the local Airtable: record operations behave as documented."""

from __future__ import annotations

import datetime as dt

import pytest
from pyairtable import Api
from pyairtable.formulas import AND, EQ, GT, OR, Field, match

from tests.conftest import BASE_ID


def test_create_reads_back_with_created_time_and_without_empty_values(people):
    record = people.create({"Name": "Ann", "Email": "ann@example.org", "Age": 12, "Notes": "",
                            "Subjects": [], "Active": False})
    assert record["id"].startswith("rec") and len(record["id"]) == 17
    assert dt.datetime.fromisoformat(record["createdTime"].replace("Z", "+00:00"))
    assert record["fields"] == {"Name": "Ann", "Email": "ann@example.org", "Age": 12}
    assert people.get(record["id"]) == record


def test_values_of_each_type_round_trip(people):
    fields = {"Name": "Bob", "Age": 14, "Score": 12.5, "Active": True, "Level": "5e",
              "Subjects": ["Maths", "Anglais"], "Born": "2010-04-02", "Notes": "ligne 1\nligne 2"}
    record = people.create(fields)
    assert record["fields"] == fields


def test_datetime_is_normalised_to_utc_and_naive_values_read_in_the_field_zone(people):
    aware = people.create({"Seen": "2024-03-01T10:00:00+01:00"})
    naive = people.create({"Seen": "2024-07-01T10:00:00"})  # Europe/Paris, summer time
    assert aware["fields"]["Seen"] == "2024-03-01T09:00:00.000Z"
    assert naive["fields"]["Seen"] == "2024-07-01T08:00:00.000Z"


def test_batch_create_update_and_delete(people):
    created = people.batch_create([{"Name": f"P{i}", "Age": i} for i in range(25)])
    assert len(created) == 25 and len({r["id"] for r in created}) == 25
    updated = people.batch_update([{"id": r["id"], "fields": {"Age": 100 + i}} for i, r in enumerate(created)])
    assert [r["fields"]["Age"] for r in updated] == [100 + i for i in range(25)]
    assert all(r["fields"]["Name"].startswith("P") for r in updated)  # PATCH keeps other fields
    deleted = people.batch_delete([r["id"] for r in created[:12]])
    assert deleted == [{"id": r["id"], "deleted": True} for r in created[:12]]
    assert len(people.all()) == 13


def test_update_patch_keeps_and_put_clears_other_fields(people):
    record = people.create({"Name": "Cy", "Age": 3, "Level": "6e"})
    patched = people.update(record["id"], {"Age": 4})
    assert patched["fields"] == {"Name": "Cy", "Age": 4, "Level": "6e"}
    replaced = people.update(record["id"], {"Name": "Cy"}, replace=True)
    assert replaced["fields"] == {"Name": "Cy"}


def test_delete_one(people):
    record = people.create({"Name": "Dee"})
    assert people.delete(record["id"]) == {"id": record["id"], "deleted": True}
    assert people.all() == []


def test_upsert_creates_then_updates_by_merge_field(people):
    first = people.batch_upsert([{"fields": {"Email": "a@x.fr", "Age": 1}},
                                 {"fields": {"Email": "b@x.fr", "Age": 2}}], key_fields=["Email"])
    assert len(first["createdRecords"]) == 2 and first["updatedRecords"] == []
    second = people.batch_upsert([{"fields": {"Email": "a@x.fr", "Age": 10}},
                                  {"fields": {"Email": "c@x.fr", "Age": 3}}], key_fields=["Email"])
    assert second["updatedRecords"] == [first["createdRecords"][0]]
    assert len(second["createdRecords"]) == 1
    ages = {r["fields"]["Email"]: r["fields"]["Age"] for r in people.all()}
    assert ages == {"a@x.fr": 10, "b@x.fr": 2, "c@x.fr": 3}


def test_upsert_with_id_updates_that_record(people):
    record = people.create({"Email": "a@x.fr", "Age": 1})
    result = people.batch_upsert([{"id": record["id"], "fields": {"Email": "changed@x.fr"}}],
                                 key_fields=["Email"])
    assert result["updatedRecords"] == [record["id"]] and result["createdRecords"] == []


def test_upsert_replace_clears_fields_left_out(people):
    people.create({"Email": "a@x.fr", "Age": 1, "Name": "A"})
    people.batch_upsert([{"fields": {"Email": "a@x.fr", "Age": 2}}], key_fields=["Email"], replace=True)
    assert people.all()[0]["fields"] == {"Email": "a@x.fr", "Age": 2}


def test_pagination_follows_offsets_and_respects_page_size(people):
    people.batch_create([{"Name": f"P{i:03d}", "Age": i} for i in range(230)])
    pages = list(people.iterate(page_size=100))
    assert [len(p) for p in pages] == [100, 100, 30]
    assert len({r["id"] for page in pages for r in page}) == 230
    assert [len(p) for p in people.iterate(page_size=7, max_records=20)] == [7, 7, 6]


def test_pages_stay_stable_while_records_are_added(people):
    people.batch_create([{"Age": i} for i in range(15)])
    pages = people.iterate(page_size=10, sort=["Age"])
    first = next(pages)
    people.create({"Age": -1})  # would shift every later position in a fresh listing
    second = next(pages)
    assert [r["fields"]["Age"] for r in first + second] == list(range(15))


def test_fields_sort_and_max_records(people):
    people.batch_create([{"Name": n, "Age": a} for n, a in [("b", 2), ("a", 2), ("c", 1), ("d", None)]])
    rows = people.all(fields=["Name"], sort=["-Age", "Name"])
    assert [r["fields"] for r in rows] == [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}, {"Name": "d"}]
    assert [r["fields"]["Name"] for r in people.all(sort=["Age"], max_records=2)] == ["d", "c"]


def test_first_returns_one_match_or_none(people):
    people.batch_create([{"Name": "A", "Age": 1}, {"Name": "B", "Age": 2}])
    assert people.first(formula=match({"Name": "B"}))["fields"]["Age"] == 2
    assert people.first(formula=match({"Name": "Z"})) is None


def test_filter_by_formula_from_pyairtable_helpers(people):
    people.batch_create([
        {"Name": "O'Neil", "Age": 12, "Active": True, "Subjects": ["Maths"], "Born": "2012-01-05"},
        {"Name": "Zoé", "Age": 9, "Subjects": ["Français", "Maths"], "Born": "2015-06-01"},
        {"Name": "Ali", "Age": 15, "Active": True, "Born": "2009-09-09"},
    ])

    def names(formula):
        return sorted(r["fields"]["Name"] for r in people.all(formula=formula))

    assert names(match({"Name": "O'Neil"})) == ["O'Neil"]
    assert names(AND(GT(Field("Age"), 10), Field("Active").eq(True))) == ["Ali", "O'Neil"]
    assert names(EQ(Field("Active"), False)) == ["Zoé"]
    assert names("FIND('Maths', {Subjects})") == ["O'Neil", "Zoé"]
    assert names("SEARCH('zo', {Name})") == ["Zoé"]
    assert names("IS_BEFORE({Born}, DATETIME_PARSE('2012-12-31'))") == ["Ali", "O'Neil"]
    assert names(GT(Field("Born"), dt.date(2012, 12, 31))) == ["Zoé"]
    assert names("AND(LEN({Name}) = 3, NOT({Active}))") == ["Zoé"]
    assert names("IF({Age} >= 12, TRUE(), FALSE())") == ["Ali", "O'Neil"]
    assert names("LOWER(TRIM({Name})) & '!' = 'ali!'") == ["Ali"]
    assert names("{Notes} = BLANK()") == ["Ali", "O'Neil", "Zoé"]
    assert names("ARRAYJOIN({Subjects}, '|') = 'Français|Maths'") == ["Zoé"]
    assert names(f"RECORD_ID() = '{people.all(formula=match({'Name': 'Ali'}))[0]['id']}'") == ["Ali"]
    assert names("OR({Age} < 10, {Age} > 14)") == ["Ali", "Zoé"]


def test_long_formula_goes_through_list_records_post(people):
    people.batch_create([{"Email": f"p{i}@x.fr"} for i in range(5)])
    wanted = [f"p{i}@x.fr" for i in range(3)] + [f"absent{i}@nowhere.example.org" for i in range(600)]
    formula = str(OR(*(EQ(Field("Email"), e) for e in wanted)))
    assert len(formula) > 16_000  # pyairtable switches to POST …/listRecords past this
    rows = people.all(formula=formula, fields=["Email"], sort=["Email"])
    assert [r["fields"]["Email"] for r in rows] == wanted[:3]


def test_return_fields_by_field_id(people):
    people.create({"Name": "Id"})
    name_id = people.schema().field("Name").id
    assert people.all(use_field_ids=True)[0]["fields"] == {name_id: "Id"}
    assert people.create({name_id: "By id"})["fields"] == {"Name": "By id"}


def test_links_keep_their_inverse_in_step(api: Api, people):
    pets = api.base(BASE_ID).table("Pets")
    ann, bob = people.batch_create([{"Name": "Ann"}, {"Name": "Bob"}])
    rex = pets.create({"Pet": "Rex", "Owner": [ann["id"]]})
    assert people.get(ann["id"])["fields"]["Pets"] == [rex["id"]]
    pets.update(rex["id"], {"Owner": [bob["id"]]})
    assert "Pets" not in people.get(ann["id"])["fields"]
    assert people.get(bob["id"])["fields"]["Pets"] == [rex["id"]]
    people.update(bob["id"], {"Pets": []})  # from the other side
    assert "Owner" not in pets.get(rex["id"])["fields"]
    pets.update(rex["id"], {"Owner": [ann["id"]]})
    people.delete(ann["id"])
    assert "Owner" not in pets.get(rex["id"])["fields"]


def test_formula_sees_links_as_primary_field_values(api: Api, people):
    pets = api.base(BASE_ID).table("Pets")
    ann = people.create({"Name": "Ann"})
    pets.batch_create([{"Pet": "Rex", "Owner": [ann["id"]]}, {"Pet": "Tom"}])
    assert [r["fields"]["Pet"] for r in pets.all(formula="{Owner} = 'Ann'")] == ["Rex"]


def test_typecast_creates_select_options_and_converts_values(people):
    record = people.create({"Level": "4e", "Subjects": "Maths, SVT", "Age": "12", "Name": 7}, typecast=True)
    assert record["fields"] == {"Level": "4e", "Subjects": ["Maths", "SVT"], "Age": 12, "Name": "7"}
    choices = [c.name for c in people.schema(force=True).field("Level").options.choices]
    assert choices == ["6e", "5e", "4e"]


def test_typecast_links_by_primary_field_text(api: Api, people):
    pets = api.base(BASE_ID).table("Pets")
    ann = people.create({"Name": "Ann"})
    rex = pets.create({"Pet": "Rex", "Owner": ["Ann", "Newcomer"]}, typecast=True)
    owners = rex["fields"]["Owner"]
    assert owners[0] == ann["id"] and people.get(owners[1])["fields"]["Name"] == "Newcomer"


def test_orm_save_and_fetch(emulator):
    from pyairtable.orm import Model, fields as F
    from pyairtable.utils import Url

    Api("patTestToken", endpoint_url=emulator.airtable_url).base(BASE_ID).create_table(
        "Contacts", [{"name": "Name", "type": "singleLineText"},
                     {"name": "Level", "type": "singleSelect", "options": {"choices": [{"name": "6e"}]}}])

    class Contact(Model):
        name = F.TextField("Name")
        level = F.SelectField("Level")

        class Meta:
            api_key = "patTestToken"
            base_id = BASE_ID
            table_name = "Contacts"

    Contact.meta.api.endpoint_url = Url(emulator.airtable_url)  # ORM Meta has no endpoint setting
    contact = Contact(name="Eve", level="6e")
    assert contact.save().created
    fetched = Contact.from_id(contact.id)
    assert (fetched.name, fetched.level) == ("Eve", "6e")
    fetched.name = "Eve B."
    fetched.save()
    assert [c.name for c in Contact.all()] == ["Eve B."]


@pytest.mark.parametrize("cell_format", ["string"])
def test_cell_format_string(people, cell_format):
    people.create({"Name": "S", "Subjects": ["Maths", "Anglais"], "Active": True, "Age": 3})
    row = people.all(cell_format=cell_format, time_zone="Europe/Paris", user_locale="fr")[0]
    assert row["fields"] == {"Name": "S", "Subjects": "Maths, Anglais", "Active": "checked", "Age": "3"}
