"""The closed vocabularies of the base: select options, as coordinators read them.

Each enum's values are the exact option names in Airtable; code uses the member names.
"""

import json
from enum import StrEnum
from pathlib import Path


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


class Distance(StrEnum):
    """How far a volunteer goes to meet a pupil in person, in bands a person understands."""

    COMMUNE = "Même commune"
    EPCI = "Même intercommunalité"
    DEPARTEMENT = "Même département"
    REGION = "Même région"


class VolunteerStatus(StrEnum):
    REGISTERED = "Inscrit"
    AGREEMENT_SENT = "Convention envoyée"
    AVAILABLE = "Disponible"  # agreement signed: can be matched
    PAIRED = "En binôme"
    PAUSED = "En pause"  # held by a coordinator
    LEFT = "Parti"


class EnvelopeStatus(StrEnum):
    PENDING = "À envoyer"
    SENT = "Envoyée"
    SIGNED = "Signée"
    DECLINED = "Refusée"
    VOIDED = "Annulée"
    FAILED = "Échec"  # DocuSign refused or could not be reached: retried later


class EmailStatus(StrEnum):
    PENDING = "À envoyer"
    SENT = "Envoyé"
    DELIVERED = "Délivré"
    UNCERTAIN = "Incertain"  # the send may or may not have happened: a coordinator decides
    FAILED = "Échec"  # SendGrid refused or could not be reached: retried later
    BOUNCED = "Rejeté"
    DROPPED = "Bloqué"
    SPAM = "Signalé"


class EmailKind(StrEnum):
    WELCOME = "Accusé de réception"
    UPDATE = "Mise à jour de l'inscription"


class StructureType(StrEnum):
    COLLEGE = "Collège"
    LYCEE = "Lycée"
    LYCEE_PRO = "Lycée professionnel"
    ASSOCIATION = "Association"
    OTHER = "Autre"


class NeedStatus(StrEnum):
    OPEN = "À pourvoir"
    SUGGESTED = "Suggestions envoyées"
    CHOSEN = "Bénévole choisi·e"  # the structure chose; the mentor has 72 hours to answer
    MATCHED = "Pourvu"
    NO_MATCH = "Sans solution"
    CLOSED = "Clos"


class PairStatus(StrEnum):
    PROPOSED = "Proposé"
    ACTIVE = "Actif"
    AT_RISK = "En difficulté"
    PAUSED = "En pause"
    ENDED = "Terminé"
    INTERRUPTED = "Interrompu"
    CANCELLED = "Annulé"


class PairReason(StrEnum):
    """Why a binôme did not go ahead, or ended."""

    UNAVAILABLE = "Bénévole indisponible"
    NOT_A_FIT = "Ne correspond pas"
    NO_ANSWER = "Sans réponse sous 72 h"
    TAKEN = "Place déjà prise"
    PUPIL_ABSENT = "Élève absent·e"
    FALLING_OUT = "Mésentente"
    MOVED = "Déménagement"
    GOAL_REACHED = "Objectif atteint"
    OTHER = "Autre"


class CheckInAuthor(StrEnum):
    MENTOR = "Bénévole"
    STRUCTURE = "Structure"


class CheckInMood(StrEnum):
    VERY_GOOD = "Très bien"
    GOOD = "Bien"
    DIFFICULT = "Difficile"
    VERY_DIFFICULT = "Très difficile"


# The départements, as `schemas/geo/build_territories.py` lists them: « 69 Rhône ».
Departement = StrEnum(  # type: ignore[misc]
    "Departement",
    [(f"D{code}", f"{code} {name}") for code, name in
     json.loads((Path(__file__).parent / "geo" / "departements.json").read_text(encoding="utf-8"))],
)


def departement_code(option: str) -> str:
    return option.split(" ", 1)[0]


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
