"""The follow-up check-in form, sent with the binôme's id (and who answers) as hidden fields; with
several bases, the link also names the binôme's base (`base`), which routes the answer."""

from schemas import options as opt
from schemas.forms.common import choice, question

FORM = {
    "title": "Point d'étape de votre binôme",
    "settings": {"language": "fr", "is_public": False},
    "hidden": ["binome", "par", "base"],
    "fields": [
        choice("mood", "Comment se passe l'accompagnement ?", opt.CheckInMood),
        question("sessions", "Combien de séances depuis le dernier point ?", "number"),
        question("comment", "Un commentaire ?", "long_text", required=False),
        question("needs_help", "Avez-vous besoin d'aide de la part du collectif ?", "yes_no"),
    ],
}

MAPPING = {
    "hidden": {
        "binome": {"to": "pair", "as": "record_id"},
        "par": {"to": "author", "as": "option"},
    },
    "record": {
        "mood": {"to": "mood", "as": "option"},
        "sessions": {"to": "sessions", "as": "integer", "min": 0, "max": 50},
        "comment": {"to": "comment", "as": "text"},
        "needs_help": {"to": "needs_help", "as": "flag"},
    },
}
