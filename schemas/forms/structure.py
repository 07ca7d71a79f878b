"""The structure form: who the structure is (`Structures`), then one block of questions per pupil
in need, each becoming a `Besoins` record (a reference, never the pupil's name)."""

from typing import Any

from schemas import options as opt
from schemas.forms.common import choice, question

MAX_PUPILS = 5


def pupil_block(n: int) -> list[dict[str, Any]]:
    return [
        choice(f"pupil_{n}_level", f"Élève {n} : niveau", opt.Level, required=False),
        choice(f"pupil_{n}_subjects", f"Élève {n} : matières à travailler", opt.Subject, multiple=True, required=False),
        question(f"pupil_{n}_difficulties", f"Élève {n} : difficultés rencontrées (sans nom ni détail identifiant)",
                 "long_text", required=False),
        choice(f"pupil_{n}_slots", f"Élève {n} : créneaux possibles", opt.Slot, multiple=True, required=False),
        choice(f"pupil_{n}_mode", f"Élève {n} : modalité", opt.Mode, required=False),
    ]


FORM = {
    "title": "Structures : demander un accompagnement pour vos élèves",
    "settings": {"language": "fr", "is_public": True},
    "hidden": ["source"],
    "fields": [
        question("name", "Nom de la structure", "short_text"),
        choice("type", "Type de structure", opt.StructureType),
        question("contact", "Nom de la personne référente", "short_text"),
        question("email", "Email de la personne référente", "email"),
        question("phone", "Téléphone", "phone_number", required=False, default_country_code="FR"),
        question("postcode", "Code postal de la structure", "short_text"),
        question("town", "Commune", "short_text", required=False),
        question("pupil_count", f"Combien d'élèves souhaitez-vous faire accompagner (1 à {MAX_PUPILS}) ?", "number"),
        *[field for n in range(1, MAX_PUPILS + 1) for field in pupil_block(n)],
    ],
}

MAPPING = {
    "key": "email",
    "record": {
        "name": {"to": "name", "as": "text"},
        "type": {"to": "type", "as": "option"},
        "contact": {"to": "contact", "as": "name"},
        "email": {"to": "email", "as": "email"},
        "phone": {"to": "phone", "as": "phone"},
        "postcode": {"to": "postcode", "as": "postcode"},
        "town": {"to": "town", "as": "town"},
    },
    "pupils": {
        "count": {"ref": "pupil_count", "min": 1, "max": MAX_PUPILS},
        "each": {
            "level": {"ref": "pupil_{n}_level", "as": "option", "required": True},
            "subjects": {"ref": "pupil_{n}_subjects", "as": "options", "required": True},
            "difficulties": {"ref": "pupil_{n}_difficulties", "as": "text"},
            "slots": {"ref": "pupil_{n}_slots", "as": "options", "required": True},
            "mode": {"ref": "pupil_{n}_mode", "as": "option", "required": True},
        },
    },
}
