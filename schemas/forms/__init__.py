"""The Typeform forms as code: each module holds a form (a Create API body) and, next to it,
the mapping from its question refs to the base's fields.

A mapping entry says where an answer goes (`to`: a typed record attribute) and how to read it
(`as`): `text`, `name`, `email`, `phone`, `postcode`, `town`, `option`, `options`, `integer`,
`number`, `consent`, `flag`. The structure form repeats one block of questions per pupil.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.forms import checkin, structure, volunteer


@dataclass(frozen=True)
class FormSpec:
    kind: str  # "volunteer", "structure" or "checkin"
    definition: dict[str, Any]
    mapping: dict[str, Any]

    @property
    def refs(self) -> set[str]:
        return {f["ref"] for f in self.definition["fields"]}


FORMS = {
    "volunteer": FormSpec("volunteer", volunteer.FORM, volunteer.MAPPING),
    "structure": FormSpec("structure", structure.FORM, structure.MAPPING),
    "checkin": FormSpec("checkin", checkin.FORM, checkin.MAPPING),
}
