"""The closed vocabularies of the base: select options, as coordinators read them.

Each enum's values are the exact option names in Airtable; code uses the member names.
"""

from enum import StrEnum


class Level(StrEnum):
    SIXIEME = "6e"
    CINQUIEME = "5e"
    QUATRIEME = "4e"
    TROISIEME = "3e"
    SECONDE = "2nde"
    PREMIERE = "1re"
    TERMINALE = "Terminale"


class Subject(StrEnum):
    MATHS = "Mathématiques"
    FRENCH = "Français"
    ENGLISH = "Anglais"
    SPANISH = "Espagnol"
    GERMAN = "Allemand"
    HISTORY_GEOGRAPHY = "Histoire-géographie"
    PHYSICS_CHEMISTRY = "Physique-chimie"
    LIFE_SCIENCES = "SVT"
    ECONOMICS = "SES"
    PHILOSOPHY = "Philosophie"
    METHODOLOGY = "Méthodologie"
    HOMEWORK = "Aide aux devoirs"


DAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
PERIODS = ("9h-12h", "14h-16h", "16h-18h", "18h-20h")

# Weekly slots, "Lundi 16h-18h" … "Dimanche 18h-20h": 28 options, in calendar order.
Slot = StrEnum(  # type: ignore[misc]
    "Slot",
    [(f"{day}_{period}".upper().replace("-", "_"), f"{day} {period}") for day in DAYS for period in PERIODS],
)


class Mode(StrEnum):
    REMOTE = "Distanciel"
    IN_PERSON = "Présentiel"
    BOTH = "Les deux"


class VolunteerStatus(StrEnum):
    REGISTERED = "Inscrit"
    AGREEMENT_SENT = "Convention envoyée"
    AVAILABLE = "Disponible"
    PAIRED = "En binôme"
    PAUSED = "En pause"
    LEFT = "Parti"


class EnvelopeStatus(StrEnum):
    NOT_SENT = "Non envoyée"
    SENT = "Envoyée"
    SIGNED = "Signée"
    DECLINED = "Refusée"
    VOIDED = "Annulée"


class EmailStatus(StrEnum):
    SENT = "Envoyé"
    DELIVERED = "Délivré"
    BOUNCED = "Rejeté"
    DROPPED = "Bloqué"


class StructureType(StrEnum):
    COLLEGE = "Collège"
    LYCEE = "Lycée"
    LYCEE_PRO = "Lycée professionnel"
    ASSOCIATION = "Association"
    OTHER = "Autre"


class NeedStatus(StrEnum):
    OPEN = "À pourvoir"
    SUGGESTED = "Suggestions envoyées"
    MATCHED = "Pourvu"
    NO_MATCH = "Sans solution"
    CLOSED = "Clos"


class PairStatus(StrEnum):
    PROPOSED = "Proposé"
    ACTIVE = "Actif"
    AT_RISK = "En difficulté"
    PAUSED = "En pause"
    ENDED = "Terminé"
    CANCELLED = "Annulé"


class CheckInAuthor(StrEnum):
    MENTOR = "Bénévole"
    STRUCTURE = "Structure"


class CheckInMood(StrEnum):
    VERY_GOOD = "Très bien"
    GOOD = "Bien"
    DIFFICULT = "Difficile"
    VERY_DIFFICULT = "Très difficile"


class JournalSource(StrEnum):
    TYPEFORM = "Typeform"
    DOCUSIGN = "DocuSign"
    SENDGRID = "SendGrid"
    AIRTABLE = "Airtable"
    SCHEDULER = "Planificateur"
    BINOME = "binome"


class JournalStatus(StrEnum):
    DONE = "Traité"
    UPDATED = "Mis à jour"
    REJECTED = "Rejeté"
    ERROR = "Erreur"
