"""The Airtable base as code: every table and field, with its type and options.

This is the one place that maps the English identifiers code uses to the French labels
coordinators see. `make provision` creates what is missing from it; the typed records in
`schemas.records` take their Airtable names from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas import options as opt

CHOICE_COLORS = ("blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2",
                 "orangeLight2", "redLight2", "pinkLight2", "purpleLight2", "grayLight2")


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str
    options: dict[str, Any] | None = None
    description: str = ""
    # For multipleRecordLinks: the linked table's key, and whether Airtable creates this field
    # itself as the inverse of a link declared on the other table.
    links_to: str | None = None
    inverse_of: tuple[str, str] | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(c["name"] for c in (self.options or {}).get("choices", ()))

    def create_payload(self, linked_table_id: str | None = None) -> dict[str, Any]:
        """The body of a Meta API create-field request."""
        payload: dict[str, Any] = {"name": self.label, "type": self.type}
        if self.description:
            payload["description"] = self.description
        if self.type == "multipleRecordLinks":
            payload["options"] = {"linkedTableId": linked_table_id}
        elif self.options:
            payload["options"] = self.options
        return payload


@dataclass(frozen=True)
class TableSpec:
    key: str
    label: str
    fields: tuple[FieldSpec, ...]
    description: str = ""

    @property
    def primary(self) -> FieldSpec:
        return self.fields[0]

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(f"table {self.key!r} has no field {key!r}")

    @property
    def own_fields(self) -> tuple[FieldSpec, ...]:
        """Fields we create directly (inverse links appear when their other side is created)."""
        return tuple(f for f in self.fields if f.inverse_of is None)


# --- field constructors -------------------------------------------------------------------

def text(key: str, label: str, description: str = "") -> FieldSpec:
    return FieldSpec(key, label, "singleLineText", description=description)


def long_text(key: str, label: str, description: str = "") -> FieldSpec:
    return FieldSpec(key, label, "multilineText", description=description)


def email(key: str, label: str) -> FieldSpec:
    return FieldSpec(key, label, "email")


def phone(key: str, label: str) -> FieldSpec:
    return FieldSpec(key, label, "phoneNumber")


def number(key: str, label: str, precision: int = 0) -> FieldSpec:
    return FieldSpec(key, label, "number", {"precision": precision})


def checkbox(key: str, label: str) -> FieldSpec:
    return FieldSpec(key, label, "checkbox", {"icon": "check", "color": "greenBright"})


def date(key: str, label: str) -> FieldSpec:
    return FieldSpec(key, label, "date", {"dateFormat": {"name": "european"}})


def datetime(key: str, label: str) -> FieldSpec:
    return FieldSpec(key, label, "dateTime", {
        "timeZone": "Europe/Paris",
        "dateFormat": {"name": "european"},
        "timeFormat": {"name": "24hour"},
    })


def _choices(enum: type[StrEnum]) -> dict[str, Any]:
    return {"choices": [
        {"name": member.value, "color": CHOICE_COLORS[i % len(CHOICE_COLORS)]}
        for i, member in enumerate(enum)
    ]}


def single(key: str, label: str, enum: type[StrEnum], description: str = "") -> FieldSpec:
    return FieldSpec(key, label, "singleSelect", _choices(enum), description)


def multi(key: str, label: str, enum: type[StrEnum]) -> FieldSpec:
    return FieldSpec(key, label, "multipleSelects", _choices(enum))


def link(key: str, label: str, to: str, description: str = "") -> FieldSpec:
    return FieldSpec(key, label, "multipleRecordLinks", description=description, links_to=to)


def inverse(key: str, label: str, of: tuple[str, str]) -> FieldSpec:
    """The field Airtable adds to this table when the link `of` = (table, field) is created."""
    return FieldSpec(key, label, "multipleRecordLinks", links_to=of[0], inverse_of=of)


def email_fields() -> tuple[FieldSpec, ...]:
    """The acknowledgement sent to a person, and what became of it (the outbox is the record)."""
    return (
        single("email_status", "Email statut", opt.EmailStatus),
        single("email_kind", "Email objet", opt.EmailKind),
        text("email_key", "Email clé", "Quel email est dû (accusé, mise à jour d'une réponse, renvoi) : "
                                      "un même email n'est envoyé qu'une fois."),
        datetime("email_prepared_at", "Email préparé le"),
        datetime("email_sent_at", "Email envoyé le"),
        text("email_message_id", "Email message"),
        number("email_attempts", "Email essais"),
        checkbox("resend_email", "Renvoyer l'accusé"),
    )


def privacy_fields(warned: str, anonymised: str) -> tuple[FieldSpec, ...]:
    """Where a person stands with the retention of their data (see `shared.privacy`)."""
    return (
        datetime("retention_warned_at", warned),
        datetime("anonymised_at", anonymised),
    )


def envelope_fields(status: str, prepared: str, sent: str, reminded: str, signed: str,
                    attempts: str) -> tuple[FieldSpec, ...]:
    """The document a person signs online (agreement or charter), and where it stands."""
    return (
        single("envelope_status", status, opt.EnvelopeStatus),
        text("envelope_id", "Enveloppe"),
        datetime("envelope_prepared_at", prepared),
        datetime("envelope_sent_at", sent),
        datetime("envelope_reminded_at", reminded),
        datetime("envelope_signed_at", signed),
        number("envelope_attempts", attempts),
    )


# --- the base ---------------------------------------------------------------------------

VOLUNTEERS = TableSpec("volunteers", "Bénévoles", (
    text("full_name", "Nom complet"),
    text("first_name", "Prénom"),
    text("last_name", "Nom"),
    email("email", "Email"),
    phone("phone", "Téléphone"),
    text("postcode", "Code postal"),
    text("town", "Commune"),
    multi("levels", "Niveaux", opt.Level),
    multi("subjects", "Matières", opt.Subject),
    multi("slots", "Disponibilités", opt.Slot),
    single("mode", "Modalité", opt.Mode),
    single("max_distance", "Distance acceptée", opt.Distance),
    number("capacity", "Capacité"),
    number("hours_per_week", "Heures par semaine", precision=1),
    text("association", "Association"),
    long_text("motivation", "Motivation"),
    long_text("constraints", "Contraintes"),
    single("status", "Statut", opt.VolunteerStatus),
    *envelope_fields("Convention", "Convention préparée le", "Convention envoyée le", "Convention relancée le",
                     "Convention signée le", "Convention essais"),
    *email_fields(),
    link("antenna", "Antenne", to="antennas", description="L'antenne qui prend contact après la signature."),
    datetime("antenna_since", "Antenne depuis le"),
    date("first_contact_on", "Premier contact le"),
    long_text("waiting", "En attente",
              "Signé·e depuis plus de 3 semaines et toujours sans binôme : depuis quand, et ce qui manque près de "
              "chez lui ou elle (écrit chaque jour par le suivi)."),
    checkbox("consent", "Consentement"),
    datetime("consent_at", "Consentement le"),
    text("consent_version", "Version du consentement",
         "La version du texte accepté (schemas/consent.py) : elle change avec le texte."),
    *privacy_fields("Prévenu·e de l'anonymisation le", "Anonymisé·e le"),
    text("typeform_token", "Réponse Typeform", "La dernière réponse reçue de cette personne."),
    text("first_token", "Première réponse", "La réponse qui a créé la fiche."),
    datetime("registered_at", "Inscrit le"),
    datetime("last_response_at", "Dernière réponse le"),
    inverse("pairs", "Binômes", of=("pairs", "volunteer")),
    inverse("suggested_for", "Suggéré pour", of=("needs", "suggested_mentors")),
    inverse("proposed_for", "Proposé pour", of=("needs", "proposal")),
), "Les bénévoles inscrits via le formulaire ; une fiche par personne (clé : Email).")

STRUCTURES = TableSpec("structures", "Structures", (
    text("name", "Nom"),
    single("type", "Type", opt.StructureType),
    email("email", "Email"),
    text("contact", "Contact"),
    phone("phone", "Téléphone"),
    text("postcode", "Code postal"),
    text("town", "Commune"),
    *envelope_fields("Charte", "Charte préparée le", "Charte envoyée le", "Charte relancée le", "Charte signée le",
                     "Charte essais"),
    *email_fields(),
    text("typeform_token", "Réponse Typeform", "La dernière réponse reçue de cette structure."),
    text("first_token", "Première réponse", "La réponse qui a créé la fiche."),
    datetime("registered_at", "Inscrite le"),
    datetime("last_response_at", "Dernière réponse le"),
    long_text("duplicate_of", "Doublon probable"),
    *privacy_fields("Prévenue de l'anonymisation le", "Anonymisée le"),
    inverse("needs", "Besoins", of=("needs", "structure")),
    inverse("pairs", "Binômes", of=("pairs", "structure")),
), "Collèges, lycées et associations qui accueillent des élèves (clé : Email).")

NEEDS = TableSpec("needs", "Besoins", (
    text("reference", "Référence", "Une référence, jamais le nom de l'élève."),
    link("structure", "Structure", to="structures"),
    single("level", "Niveau", opt.Level),
    multi("subjects", "Matières", opt.Subject),
    long_text("difficulties", "Difficultés"),
    multi("slots", "Créneaux", opt.Slot),
    single("mode", "Modalité", opt.Mode),
    single("status", "Statut", opt.NeedStatus),
    link("suggested_mentors", "Mentors suggérés", to="volunteers",
         description="Du plus pertinent au moins pertinent."),
    long_text("explanations", "Explications"),
    datetime("suggested_at", "Suggestions calculées le"),
    link("proposal", "Proposition", to="volunteers",
         description="L'affectation d'ensemble proposée, à revoir avant de la publier."),
    datetime("proposed_at", "Proposition calculée le"),
    checkbox("proposal_approved", "Proposition validée"),
    inverse("pair", "Binôme", of=("pairs", "need")),
    text("key", "Clé", "La réponse Typeform et le rang de l'élève : unique, pour qu'une reprise ne double rien."),
), "Un besoin par élève accompagné (sans nom d'élève).")

PAIRS = TableSpec("pairs", "Binômes", (
    text("name", "Nom"),
    link("need", "Besoin", to="needs"),
    link("volunteer", "Bénévole", to="volunteers"),
    link("structure", "Structure", to="structures"),
    single("status", "Statut", opt.PairStatus),
    single("known_status", "Statut validé", opt.PairStatus,
           description="Le dernier statut appliqué par binome : chaque jour, un changement fait à la main y est "
                       "comparé, appliqué s'il est permis, signalé sinon."),
    text("key", "Clé", "Le besoin et le bénévole : un binôme par besoin et par bénévole."),
    datetime("proposed_at", "Proposé le"),
    datetime("answer_before", "Réponse avant"),
    single("reason", "Motif", opt.PairReason),
    long_text("reason_detail", "Motif (précisions)"),
    date("started_on", "Début"),
    date("last_check_in", "Dernier suivi"),
    date("next_check_in", "Prochain suivi"),
    date("asked_on", "Suivi demandé le"),
    date("reminded_on", "Suivi rappelé le"),
    long_text("alert", "Alerte"),
    inverse("check_ins", "Suivis", of=("check_ins", "pair")),
), "Un bénévole et un élève (un besoin) suivis ensemble.")

CHECK_INS = TableSpec("check_ins", "Suivis", (
    text("title", "Suivi"),
    link("pair", "Binôme", to="pairs"),
    date("date", "Date"),
    single("author", "Par", opt.CheckInAuthor),
    single("mood", "Ça se passe", opt.CheckInMood),
    number("sessions", "Séances"),
    long_text("comment", "Commentaire"),
    checkbox("needs_help", "Besoin d'aide"),
    text("typeform_token", "Réponse Typeform"),
), "Les points d'étape des binômes.")

ANTENNAS = TableSpec("antennas", "Antennes", (
    text("name", "Nom"),
    text("association", "Association"),
    multi("departements", "Départements", opt.Departement),
    email("email", "Email coordination"),
    inverse("volunteers", "Bénévoles", of=("volunteers", "antenna")),
), "Les antennes locales des associations membres, qui prennent contact avec les bénévoles.")

JOURNAL = TableSpec("journal", "Journal", (
    text("event", "Événement"),
    single("source", "Source", opt.JournalSource),
    text("type", "Type"),
    text("external_ref", "Référence externe", "Unique par source : une livraison répétée n'ajoute rien."),
    single("status", "Statut", opt.JournalStatus),
    long_text("detail", "Détail"),
    datetime("received_at", "Reçu le"),
    long_text("payload", "Données", "Le contenu reçu, pour pouvoir le rejouer."),
    number("attempts", "Tentatives"),
    checkbox("replay_requested", "Rejouer"),
), "Chaque événement reçu et chaque échec.")

BASE: tuple[TableSpec, ...] = (VOLUNTEERS, STRUCTURES, NEEDS, PAIRS, CHECK_INS, ANTENNAS, JOURNAL)
TABLES: dict[str, TableSpec] = {t.key: t for t in BASE}


def table(key: str) -> TableSpec:
    return TABLES[key]


def table_label(key: str) -> str:
    return TABLES[key].label


def field_label(table_key: str, field_key: str) -> str:
    return TABLES[table_key].field(field_key).label
