"""`make provision`: create the tables and fields of `schemas.base` that the base lacks.

Idempotent: a second run changes nothing and says so. It never alters what exists; a field of the
wrong type, a link to the wrong table or a missing select option is reported as drift for a
person to resolve (the Meta API cannot change a field's type or options anyway).

Work goes in phases because later ones need ids made by earlier ones: tables, then plain fields,
then links (Airtable adds their inverse fields), then renaming those inverses to our labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyairtable.models.schema import BaseSchema, TableSchema

from schemas.base import BASE, TABLES, FieldSpec, TableSpec
from shared.airtable import AirtableGateway
from shared.airtable.gateway import translate_errors


@dataclass
class ProvisionReport:
    changes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = list(self.changes) or ["Base à jour : rien à changer."]
        lines += [f"Écart non corrigé : {d}" for d in self.drift]
        return lines


def provision(gateway: AirtableGateway) -> ProvisionReport:
    report = ProvisionReport()
    base = gateway.base
    with translate_errors():
        _create_tables(base, base.schema(force=True), report)
        _complete_fields(base, base.schema(force=True), report)
        _create_links(base, base.schema(force=True), report)
        _name_inverses(base.schema(force=True), report)
    return report


def _find_table(schema: BaseSchema, spec: TableSpec) -> TableSchema | None:
    return next((t for t in schema.tables if t.name == spec.label), None)


def _find_field(table: TableSchema, label: str) -> object | None:
    return next((f for f in table.fields if f.name == label), None)


def _type_of(found: object) -> str:
    field_type = getattr(found, "type")
    return str(getattr(field_type, "value", field_type))


def _is_plain(spec: FieldSpec) -> bool:
    return spec.type != "multipleRecordLinks"


def _create_tables(base, schema: BaseSchema, report: ProvisionReport) -> None:  # type: ignore[no-untyped-def]
    for spec in BASE:
        if _find_table(schema, spec) is None:
            fields = [f.create_payload() for f in spec.fields if _is_plain(f)]
            base.create_table(spec.label, fields, description=spec.description or None)
            report.changes.append(f"Table « {spec.label} » créée ({len(fields)} champs).")


def _complete_fields(base, schema: BaseSchema, report: ProvisionReport) -> None:  # type: ignore[no-untyped-def]
    for spec in BASE:
        table = _find_table(schema, spec)
        assert table is not None
        for wanted in filter(_is_plain, spec.fields):
            found = _find_field(table, wanted.label)
            if found is None:
                base.table(table.id).create_field(**_create_args(wanted))
                report.changes.append(f"Champ « {wanted.label} » ajouté à « {spec.label} ».")
            else:
                _check_field(spec, wanted, found, report)


def _create_args(wanted: FieldSpec) -> dict[str, object]:
    payload = wanted.create_payload()
    return {"name": payload["name"], "field_type": payload["type"],
            "description": payload.get("description"), "options": payload.get("options")}


def _check_field(spec: TableSpec, wanted: FieldSpec, found: object, report: ProvisionReport) -> None:
    found_type = _type_of(found)
    if found_type != wanted.type:
        report.drift.append(f"« {spec.label}.{wanted.label} » est de type {found_type}, "
                            f"attendu {wanted.type}.")
        return
    if wanted.choices:
        options = getattr(found, "options", None)
        present = {c.name for c in getattr(options, "choices", [])}
        missing = [c for c in wanted.choices if c not in present]
        if missing:
            report.drift.append(f"« {spec.label}.{wanted.label} » n'a pas les options : {', '.join(missing)}.")


def _create_links(base, schema: BaseSchema, report: ProvisionReport) -> None:  # type: ignore[no-untyped-def]
    for spec in BASE:
        table = _find_table(schema, spec)
        assert table is not None
        for wanted in spec.fields:
            if _is_plain(wanted) or wanted.inverse_of is not None:
                continue
            target = _find_table(schema, TABLES[wanted.links_to or ""])
            assert target is not None
            found = _find_field(table, wanted.label)
            if found is None:
                base.table(table.id).create_field(wanted.label, "multipleRecordLinks",
                                                  description=wanted.description or None,
                                                  options={"linkedTableId": target.id})
                report.changes.append(f"Lien « {spec.label}.{wanted.label} » → « {target.name} » créé.")
            elif _type_of(found) != "multipleRecordLinks" or \
                    found.options.linked_table_id != target.id:  # type: ignore[attr-defined]
                report.drift.append(f"« {spec.label}.{wanted.label} » devrait être un lien vers « {target.name} ».")


def _name_inverses(schema: BaseSchema, report: ProvisionReport) -> None:
    for spec in BASE:
        table = _find_table(schema, spec)
        assert table is not None
        for wanted in spec.fields:
            if wanted.inverse_of is None:
                continue
            source_spec = TABLES[wanted.inverse_of[0]]
            source = _find_table(schema, source_spec)
            forward = _find_field(source, source_spec.field(wanted.inverse_of[1]).label) if source else None
            inverse_id = getattr(getattr(forward, "options", None), "inverse_link_field_id", None)
            inverse = next((f for f in table.fields if f.id == inverse_id), None)
            if inverse is None:
                report.drift.append(f"« {spec.label}.{wanted.label} » : le lien inverse est introuvable.")
            elif inverse.name != wanted.label:
                if _find_field(table, wanted.label) is not None:
                    report.drift.append(f"« {spec.label}.{wanted.label} » existe déjà ; le lien inverse "
                                        f"s'appelle « {inverse.name} ».")
                    continue
                old = inverse.name
                inverse.name = wanted.label
                inverse.save()
                report.changes.append(f"Lien inverse « {spec.label}.{old} » renommé « {wanted.label} ».")

