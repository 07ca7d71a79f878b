"""From a Typeform response to typed records: pure, and failing only with `IntakeRejected`.

The records carry the answers only; which response made or last changed a record, and when, is
decided by `signups` from the record as it stands.

The mapping of each form lives next to it in `schemas/forms/`; this module only knows how to read
each kind of answer (`as`) and normalise it: emails, phone numbers to E.164, postcodes checked
against France's official list and turned into their commune, labels into the base's options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError

from schemas.consent import CONSENT_VERSION
from schemas.forms import FormSpec
from schemas.records import AirtableRecord, CheckIn, Need, Structure, Volunteer
from schemas.typeform import FormResponse
from shared import geo
from shared.clock import PARIS
from shared.errors import BinomeError

RECORD_ID = re.compile(r"^rec[A-Za-z0-9]{14}$")
POSTCODE = re.compile(r"^\d{5}$")
MAX_TEXT = 5000


class IntakeRejected(BinomeError):
    """An authentic submission whose content cannot be used; `reason` is for coordinators."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Mapped:
    """A mapped response: its records, and notes on optional answers that had to be dropped."""

    record: Any
    notes: list[str] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)  # one per pupil, without structure or reference yet


def titles(spec: FormSpec) -> dict[str, str]:
    return {f["ref"]: f["title"] for f in spec.definition["fields"]}


def required_refs(spec: FormSpec) -> set[str]:
    return {f["ref"] for f in spec.definition["fields"] if (f.get("validations") or {}).get("required")}


# --- reading one answer -------------------------------------------------------------------

def read(value: Any, how: dict[str, Any], label: str) -> Any:
    """Normalise one raw answer value according to its mapping entry."""
    kind = how["as"]
    if kind in ("text", "name", "town"):
        text = " ".join(str(value).split()) if kind != "text" else str(value).strip()
        if len(text) > MAX_TEXT:
            raise IntakeRejected(f"Réponse trop longue : « {label} ».")
        return proper_name(text) if kind == "name" else text
    if kind == "email":
        try:
            return validate_email(str(value).strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise IntakeRejected(f"Adresse email invalide : « {value} ».") from None
    if kind == "phone":
        return e164(str(value))
    if kind == "postcode":
        code = str(value).replace(" ", "").strip()
        if not POSTCODE.match(code) or not geo.communes(code):
            raise IntakeRejected(f"Code postal inconnu : « {value} ».")
        return code
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise IntakeRejected(f"Un nombre est attendu : « {label} ».")
        if not how.get("min", float("-inf")) <= value <= how.get("max", float("inf")):
            raise IntakeRejected(f"« {label} » doit être entre {how['min']} et {how['max']} (reçu : {value}).")
        if kind == "integer" and value != int(value):
            raise IntakeRejected(f"Un nombre entier est attendu : « {label} ».")
        return int(value) if kind == "integer" else float(value)
    if kind in ("consent", "flag"):
        if not isinstance(value, bool):
            raise IntakeRejected(f"Oui ou non attendu : « {label} ».")
        if kind == "consent" and not value:
            raise IntakeRejected("Le consentement n'a pas été donné.")
        return value
    if kind == "option":
        return str(value)
    if kind == "options":
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if kind == "record_id":
        if not RECORD_ID.match(str(value)):
            raise IntakeRejected(f"Identifiant de binôme invalide : « {value} ».")
        return [str(value)]
    raise IntakeRejected(f"Type de réponse non prévu : {kind}.")


def proper_name(text: str) -> str:
    """« anne DUPONT » becomes « Anne Dupont »; a word typed with care (« McKenzie ») is kept."""
    def word(part: str) -> str:
        return part.capitalize() if part.isupper() or part.islower() else part
    return " ".join("-".join(word(piece) for piece in chunk.split("-")) for chunk in text.split())


def e164(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        raise IntakeRejected(f"Numéro de téléphone invalide : « {raw} ».") from None
    if not phonenumbers.is_valid_number(number):
        raise IntakeRejected(f"Numéro de téléphone invalide : « {raw} ».")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- whole responses ----------------------------------------------------------------------

def answers_by_ref(response: FormResponse) -> dict[str, Any]:
    return {a.field.ref: a.value() for a in response.answers if a.field.ref}


def read_fields(values: dict[str, Any], mapping: dict[str, dict[str, Any]], spec: FormSpec,
                notes: list[str]) -> dict[str, Any]:
    """Read every mapped answer present. A missing or unusable required answer rejects the
    response; an unusable optional one (a mistyped phone number) is dropped, with a note, so the
    person's sign-up is not lost over it."""
    labels, required = titles(spec), required_refs(spec)
    attributes: dict[str, Any] = {}
    for ref, how in mapping.items():
        value = values.get(ref)
        if value is None or value == "" or value == []:
            if ref in required:
                raise IntakeRejected(f"Réponse obligatoire manquante : « {labels.get(ref, ref)} ».")
            continue
        try:
            attributes[how["to"]] = read(value, how, labels.get(ref, ref))
        except IntakeRejected as exc:
            if ref in required:
                raise
            notes.append(f"{exc.reason} Réponse facultative ignorée.")
    return attributes


def build(model: type[AirtableRecord], attributes: dict[str, Any]) -> Any:
    """A typed record, turning an option the base does not know into a rejection."""
    try:
        return model(**attributes)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))} : {e['input']!r}" for e in exc.errors())
        raise IntakeRejected(f"Réponse hors des choix prévus ({problems}).") from None


def with_commune(attributes: dict[str, Any]) -> dict[str, Any]:
    if "postcode" in attributes:
        commune = geo.resolve(attributes["postcode"], attributes.get("town", ""))
        if commune is not None:
            attributes["town"] = commune.name
    return attributes


def map_volunteer(response: FormResponse, spec: FormSpec) -> Mapped:
    notes: list[str] = []
    attributes = with_commune(read_fields(answers_by_ref(response), spec.mapping["record"], spec, notes))
    attributes["full_name"] = f"{attributes.get('first_name', '')} {attributes.get('last_name', '')}".strip()
    if attributes.get("consent"):
        # When the answer was given (not when it reached us) and to which wording: a re-sign-up
        # renews both, in the same write as the other answers.
        attributes["consent_at"] = response.submitted_at
        attributes["consent_version"] = CONSENT_VERSION
    return Mapped(build(Volunteer, attributes), notes)


def map_structure(response: FormResponse, spec: FormSpec) -> Mapped:
    values = answers_by_ref(response)
    notes: list[str] = []
    attributes = with_commune(read_fields(values, spec.mapping["record"], spec, notes))
    structure = build(Structure, attributes)
    pupils = spec.mapping["pupils"]
    count_spec = pupils["count"]
    if values.get(count_spec["ref"]) is None:
        raise IntakeRejected("Réponse obligatoire manquante : « nombre d'élèves ».")
    count = read(values[count_spec["ref"]], {"as": "integer", **count_spec}, "nombre d'élèves")
    needs = [pupil_need(values, pupils["each"], n) for n in range(1, count + 1)]
    return Mapped(structure, notes, needs)


def pupil_need(values: dict[str, Any], each: dict[str, dict[str, Any]], n: int) -> Need:
    attributes: dict[str, Any] = {}
    for name, how in each.items():
        ref = how["ref"].format(n=n)
        value = values.get(ref)
        if value is None or value == "" or value == []:
            if how.get("required"):
                raise IntakeRejected(f"Élève {n} : réponse manquante ({name}).")
            continue
        attributes[name] = read(value, how, f"élève {n} : {name}")
    try:
        need: Need = build(Need, attributes)  # the options, checked against the base's vocabularies
    except IntakeRejected as exc:
        raise IntakeRejected(f"Élève {n} : {exc.reason}") from None
    return need


def map_checkin(response: FormResponse, spec: FormSpec) -> Mapped:
    hidden_spec = spec.mapping["hidden"]
    hidden = {name: value for name, value in response.hidden.items() if value not in (None, "")}
    attributes = {}
    for name, how in hidden_spec.items():
        if name not in hidden:
            raise IntakeRejected(f"Champ caché manquant : « {name} ».")
        attributes[how["to"]] = read(hidden[name], how, name)
    notes: list[str] = []
    attributes.update(read_fields(answers_by_ref(response), spec.mapping["record"], spec, notes))
    answered = response.submitted_at.astimezone(PARIS)  # the day the person answered, where they live
    attributes["date"] = answered.date()
    attributes["title"] = f"Suivi du {answered:%d/%m/%Y} ({response.token[:8]})"
    attributes["typeform_token"] = response.token
    return Mapped(build(CheckIn, attributes), notes)
