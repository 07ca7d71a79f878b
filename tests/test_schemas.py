"""The base as code is consistent, and the typed records agree with it."""

from __future__ import annotations

import pytest

from schemas import options as opt
from schemas.base import BASE, TABLES
from schemas.records import META, MODELS

PRIMARY_TYPES = {"singleLineText", "email", "phoneNumber", "number", "date", "dateTime", "multilineText"}
ATTRIBUTE_TYPES = {  # Airtable type -> what the typed record may hold
    "singleLineText": "str", "multilineText": "str", "email": "str", "phoneNumber": "str",
    "number": ("int | None", "float | None"), "checkbox": "bool", "singleSelect": "| None",
    "multipleSelects": "list[", "multipleRecordLinks": "list[str]", "date": "date | None",
    "dateTime": "datetime | None",
}


def test_table_and_field_names_are_unique():
    assert len({t.label for t in BASE}) == len(BASE)
    for table in BASE:
        assert len({f.label.casefold() for f in table.fields}) == len(table.fields), table.label
        assert len({f.key for f in table.fields}) == len(table.fields), table.label


def test_primary_fields_come_first_and_can_be_primary():
    for table in BASE:
        assert table.primary.type in PRIMARY_TYPES


def test_every_link_has_its_declared_inverse_and_back():
    for table in BASE:
        for f in table.fields:
            if f.type != "multipleRecordLinks":
                continue
            if f.inverse_of is None:
                inverses = [g for g in TABLES[f.links_to].fields if g.inverse_of == (table.key, f.key)]
                assert len(inverses) == 1, f"{table.label}.{f.label}"
            else:
                source, key = f.inverse_of
                assert TABLES[source].field(key).links_to == table.key


def test_design_contract_fields_exist():
    wanted = {
        "Bénévoles": ["Nom complet", "Prénom", "Nom", "Email", "Téléphone", "Code postal", "Commune", "Niveaux",
                      "Matières", "Disponibilités", "Modalité", "Capacité", "Association", "Statut", "Convention",
                      "Enveloppe", "Email statut", "Consentement", "Réponse Typeform", "Inscrit le", "Binômes"],
        "Structures": ["Nom", "Type", "Email", "Contact", "Téléphone", "Code postal", "Commune", "Charte",
                       "Enveloppe", "Besoins", "Réponse Typeform"],
        "Besoins": ["Référence", "Structure", "Niveau", "Matières", "Difficultés", "Créneaux", "Modalité", "Statut",
                    "Mentors suggérés", "Explications", "Suggestions calculées le", "Binôme"],
        "Binômes": ["Nom", "Besoin", "Bénévole", "Structure", "Statut", "Début", "Dernier suivi", "Prochain suivi",
                    "Alerte", "Suivis"],
        "Suivis": ["Binôme", "Date", "Par", "Ça se passe", "Séances", "Commentaire", "Besoin d'aide"],
        "Journal": ["Événement", "Source", "Type", "Référence externe", "Statut", "Détail", "Reçu le", "Données"],
    }
    for label, fields in wanted.items():
        table = next(t for t in BASE if t.label == label)
        assert table.primary.label == fields[0] or label == "Suivis"
        assert set(fields) <= {f.label for f in table.fields}, label


def test_vocabularies():
    assert [level.value for level in opt.Level] == ["6e", "5e", "4e", "3e", "2nde", "1re", "Terminale"]
    assert [m.value for m in opt.Mode] == ["Distanciel", "Présentiel", "Les deux"]
    assert len(opt.Slot) == 28 and opt.Slot.MERCREDI_14H_16H.value == "Mercredi 14h-16h"
    assert [s.value for s in opt.JournalStatus] == ["Traité", "Mis à jour", "Rejeté", "Erreur"]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_typed_records_match_the_schema(model):
    table = TABLES[model.table_key]
    attributes = {name: info for name, info in model.model_fields.items() if name not in META}
    assert set(attributes) == {f.key for f in table.fields}, "every field has an attribute and back"
    for name, info in attributes.items():
        spec = table.field(name)
        assert info.alias == spec.label
        expected = ATTRIBUTE_TYPES[spec.type]
        annotation = str(info.annotation)
        assert any(e in annotation for e in ((expected,) if isinstance(expected, str) else expected)), name
        if spec.choices:
            enum = info.annotation.__args__[0] if hasattr(info.annotation, "__args__") else info.annotation
            assert [m.value for m in enum] == list(spec.choices), name
