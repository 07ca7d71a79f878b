"""The rights of access and erasure, end to end on the stack: a person signs up (acknowledged,
sent their agreement, vendors' events journaled), is paired, checks in; `export` finds all of it,
and `erase` leaves no trace of their email, phone or name in any field of any record of any table,
in the Typeform stand-in's responses, or in the local files binome writes."""

from __future__ import annotations

import json

from schemas import base
from schemas import options as opt
from schemas.records import MODELS, JournalEntry, Need, Pair, Structure, Volunteer
from shared.clock import now
from shared.privacy.erasure import Eraser
from shared.privacy.export import export_email
from shared.typeform_client import TypeformClient

EMAIL = "zephyrine.quidam@exemple.fr"
PHONE = "+33687654321"
SIGN_UP = {"first_name": "Zéphyrine", "last_name": "Quidam", "email": "Zephyrine.Quidam@Exemple.fr",
           "phone": "06 87 65 43 21", "postcode": "69003", "levels": ["4e"], "subjects": ["Mathématiques"],
           "slots": ["Lundi 18h-20h"], "mode": "Les deux", "capacity": 1, "hours_per_week": 2,
           "motivation": "Je suis Zéphyrine, joignable au 06 87 65 43 21.", "consent": True}
TRACES = [EMAIL, PHONE, "06 87 65 43 21", "0687654321", "zéphyrine", "quidam"]


def everything_she_did(live) -> tuple[Volunteer, Pair]:
    live.submit("volunteer", SIGN_UP)
    live.settle()
    [volunteer] = live.gateway.all(Volunteer)
    [college] = live.gateway.create([Structure(name="Collège Jean-Moulin", email="cdi@college.fr",
                                               contact="Anne Dupont", postcode="69100")])
    live.gateway.create([Volunteer(full_name="Paul Durand", email="paul@exemple.fr",  # typed by a coordinator
                                   constraints=f"Vient avec Zéphyrine Quidam ({EMAIL}, {PHONE}).")])
    [need] = live.gateway.create([Need(reference="CJM-1", structure=[college.record_id], level="4e",
                                       explanations="1. Zéphyrine : même commune, Mathématiques.",
                                       suggested_mentors=[volunteer.record_id])])
    [pair] = live.gateway.create([Pair(name="Zéphyrine × CJM-1", need=[need.record_id],
                                       volunteer=[volunteer.record_id], structure=[college.record_id],
                                       status=opt.PairStatus.ENDED, alert="Zéphyrine Quidam ne répond plus.")])
    live.submit("checkin", {"mood": "Bien", "sessions": 3, "comment": "Mon élève progresse.", "needs_help": False},
                hidden={"binome": pair.record_id, "par": "Bénévole"})
    live.submit("checkin", {"mood": "Très bien", "sessions": 3, "comment": "Zéphyrine est formidable.",
                            "needs_help": False}, hidden={"binome": pair.record_id, "par": "Structure"})
    live.settle()
    return volunteer, pair


def traces_in_the_base(live) -> list[str]:
    """Every trace found in any field of any record of any table, as « table: trace »."""
    found = []
    for model in MODELS:
        for record in live.gateway.table(model).all():
            text = json.dumps(record["fields"], ensure_ascii=False).lower()
            found += [f"{model.table_label()}: {t}" for t in TRACES if t.lower() in text]
    return found


def typeform_responses(live) -> list[dict]:
    client = TypeformClient(live.settings)
    return [r for form_id in live.settings.form_ids.values() for r in client.responses(form_id)]


def test_sign_up_records_consent_with_its_date_and_wording_version(live):
    from schemas.consent import CONSENT_TEXT, CONSENT_VERSION, version_of

    live.submit("volunteer", SIGN_UP)
    live.settle()
    [volunteer] = live.gateway.all(Volunteer)
    assert volunteer.consent and volunteer.consent_version == CONSENT_VERSION
    assert volunteer.consent_at == volunteer.registered_at  # when the answer was given: Typeform's submitted_at
    assert version_of(CONSENT_TEXT + ".") != CONSENT_VERSION  # the wording changes, so does the version


def test_export_finds_everything_binome_holds_about_the_address(live):
    volunteer, pair = everything_she_did(live)
    document = export_email(live.gateway, TypeformClient(live.settings), live.settings, EMAIL.upper(), now())
    assert [v["id"] for v in document["bénévole"]] == [volunteer.record_id]
    assert document["bénévole"][0]["Email"] == EMAIL and document["bénévole"][0]["Version du consentement"]
    assert [p["id"] for p in document["binômes"]] == [pair.record_id]
    assert sorted(c["Commentaire"] for c in document["suivis"]) == ["Mon élève progresse.", "Zéphyrine est formidable."]
    assert [n["Référence"] for n in document["besoins"]] == ["CJM-1"]
    payloads = [json.dumps(e["Données"], ensure_ascii=False) for e in document["journal"] if e["Données"]]
    assert any(SIGN_UP["email"] in p for p in payloads)  # the sign-up as received
    assert any(e["Source"] == "SendGrid" for e in document["journal"])  # the acknowledgement's delivery events
    responses = document["réponses Typeform"]
    assert len(responses[live.form_id("volunteer")]) == 1 and len(responses[live.form_id("checkin")]) == 1
    assert "SendGrid" in document["ailleurs, chez nos prestataires"]


def test_erase_leaves_no_trace_of_the_person_anywhere_we_control(live, tmp_path):
    volunteer, pair = everything_she_did(live)
    report_file = tmp_path / "rapport-demo.md"
    report_file.write_text(f"# Démo\n\nRebond : {EMAIL} (Zéphyrine Quidam)\n", encoding="utf-8")
    (tmp_path / "binome.sqlite3").write_bytes(b"vendor store " + EMAIL.encode())  # the stand-ins' own: not ours
    assert traces_in_the_base(live) and any(EMAIL in json.dumps(r).lower() for r in typeform_responses(live))

    report = Eraser(live.gateway, TypeformClient(live.settings), live.settings, local_folder=tmp_path) \
        .erase_email(EMAIL)

    assert traces_in_the_base(live) == []
    assert not any(t.lower() in json.dumps(r, ensure_ascii=False).lower() for r in typeform_responses(live)
                   for t in TRACES)
    assert typeform_responses(live) == []  # hers, and the structure's check-in that names her
    assert not any(t in report_file.read_text(encoding="utf-8").lower() for t in TRACES)
    assert report.files == [report_file]
    assert "suppression SendGrid conservées" in "\n".join(report.lines())

    kept = live.gateway.get(Volunteer, volunteer.record_id)  # anonymised, not deleted: the statistics stay
    assert kept.levels == ["4e"] and kept.anonymised_at is not None and kept.status == opt.VolunteerStatus.LEFT
    assert live.gateway.get(Pair, pair.record_id).volunteer == [volunteer.record_id]
    assert live.gateway.all(Need)[0].suggested_mentors == []  # nobody can choose her any more
    comments = sorted(c.comment for c in live.gateway.all(MODELS[4]))
    assert comments == ["", f"Bénévole anonymisé·e {volunteer.record_id[-6:]} est formidable."]
    [erasure] = [e for e in live.gateway.all(JournalEntry) if e.type == "effacement"]
    assert erasure.external_ref == f"effacement:{volunteer.record_id}"


def test_erasing_an_address_without_a_record_scrubs_its_rejected_responses(live):
    live.submit("volunteer", {**SIGN_UP, "postcode": "00000"})  # rejected: unknown postcode, kept in the Journal
    live.settle()
    assert live.gateway.all(Volunteer) == [] and traces_in_the_base(live)
    Eraser(live.gateway, TypeformClient(live.settings), live.settings).erase_email(EMAIL)
    assert traces_in_the_base(live) == [] and typeform_responses(live) == []
    [erasure] = [e for e in live.gateway.all(JournalEntry) if e.type == "effacement"]
    assert erasure.external_ref.startswith("effacement:adresse-") and "zephyrine" not in erasure.external_ref


def test_every_table_of_the_base_is_scanned():
    assert {m.table_key for m in MODELS} == {t.key for t in base.BASE}
