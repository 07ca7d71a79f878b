"""The volunteer sign-up form and where its answers go in `Bénévoles`."""

from schemas import options as opt
from schemas.consent import CONSENT_TEXT
from schemas.forms.common import choice, question

FORM = {
    "title": "Devenir bénévole : accompagner un élève",
    "settings": {"language": "fr", "is_public": True},
    "hidden": ["source"],
    "fields": [
        question("first_name", "Votre prénom", "short_text"),
        question("last_name", "Votre nom", "short_text"),
        question("email", "Votre adresse email", "email"),
        question("phone", "Votre numéro de téléphone", "phone_number", required=False, default_country_code="FR"),
        question("postcode", "Votre code postal", "short_text"),
        question("town", "Votre commune", "short_text", required=False),
        choice("levels", "À quels niveaux pouvez-vous aider ?", opt.Level, multiple=True),
        choice("subjects", "Dans quelles matières ?", opt.Subject, multiple=True),
        choice("slots", "Quand êtes-vous disponible chaque semaine ?", opt.Slot, multiple=True),
        choice("mode", "Comment préférez-vous accompagner ?", opt.Mode),
        choice("max_distance", "En présentiel, jusqu'où pouvez-vous aller ?", opt.Distance, required=False),
        question("capacity", "Combien d'élèves pouvez-vous accompagner ?", "number"),
        question("hours_per_week", "Combien d'heures par semaine pouvez-vous donner ?", "number"),
        question("association", "Êtes-vous membre d'une association ? Laquelle ?", "short_text", required=False),
        question("constraints", "Des contraintes à nous signaler ?", "long_text", required=False),
        question("motivation", "Qu'est-ce qui vous donne envie d'accompagner un élève ?", "long_text"),
        question("consent", CONSENT_TEXT, "legal"),
    ],
}

MAPPING = {
    "key": "email",
    "record": {
        "first_name": {"to": "first_name", "as": "name"},
        "last_name": {"to": "last_name", "as": "name"},
        "email": {"to": "email", "as": "email"},
        "phone": {"to": "phone", "as": "phone"},
        "postcode": {"to": "postcode", "as": "postcode"},
        "town": {"to": "town", "as": "town"},
        "levels": {"to": "levels", "as": "options"},
        "subjects": {"to": "subjects", "as": "options"},
        "slots": {"to": "slots", "as": "options"},
        "mode": {"to": "mode", "as": "option"},
        "max_distance": {"to": "max_distance", "as": "option"},
        "capacity": {"to": "capacity", "as": "integer", "min": 1, "max": 5},
        "hours_per_week": {"to": "hours_per_week", "as": "number", "min": 0.5, "max": 20},
        "association": {"to": "association", "as": "text"},
        "constraints": {"to": "constraints", "as": "text"},
        "motivation": {"to": "motivation", "as": "text"},
        "consent": {"to": "consent", "as": "consent"},
    },
}
