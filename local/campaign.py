"""A realistic campaign, as answers to the forms: volunteers and structures across France.

Deterministic for a seed. Shapes follow what the collective saw: mentors cover two or three
neighbouring levels, maths is the most asked subject, evenings and Wednesday afternoons are the
busiest slots, places follow where people live (postcodes drawn by population).
"""

from __future__ import annotations

import random
import unicodedata
from typing import Any

import phonenumbers

from schemas import options as opt
from shared import geo

FIRST_NAMES = """Camille Léa Hugo Inès Lucas Chloé Yanis Manon Nathan Sarah Mehdi Emma Louis Aïcha Jules Zoé Adam
Lina Théo Maëlys Gabriel Jade Raphaël Louise Arthur Alice Mohamed Ambre Noah Rose Paul Anna Sacha Lou Nolan Mila
Ethan Julia Tom Agathe Samuel Clara Karim Fatou Thomas Juliette Antoine Salomé Maxime Nina Baptiste Yasmine Pierre
Elsa Martin Leïla Victor Margaux Olivier Sophie Nicolas Isabelle Bernard Catherine Jean Françoise Amadou Mariam""".split()
LAST_NAMES = """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Michel
Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre Mercier Dupont Lambert Bonnet François
Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément
Gauthier Dumont Lopez Fontaine Chevalier Robin Benali Nguyen Diallo Traoré Haddad Cohen Kone Da Silva Ferreira
Boyer Lemoine Renaud Schmitt Colin Vidal Caron Picard Roger Fabre Aubert Lemaire Meyer Marchand Duval""".split()
# The collective's member associations (as volunteers name them), or none.
ASSOCIATIONS = ["AFEV", "AFEV", "Article 1", "Télémaque", "NQT", "Socrate", "Entraide scolaire amicale", "", "", ""]
MOTIVATIONS = ["J'ai moi-même été aidé au collège et je veux rendre la pareille.",
               "Enseignant à la retraite, j'ai du temps et l'envie de transmettre.",
               "Étudiante en sciences, j'aime expliquer les maths simplement.",
               "Je crois que chaque élève mérite un coup de pouce au bon moment.",
               "Parent, je vois combien le confinement a creusé les écarts.",
               "Ingénieur, je veux donner du sens à mon temps libre."]
DIFFICULTIES = ["Décrochage depuis le confinement", "Manque de méthode et d'organisation",
                "Difficultés de lecture et de compréhension", "Besoin de reprendre confiance en soi",
                "Lacunes en calcul", "Peu d'accompagnement possible à la maison", ""]
NAMESAKES = ["Jean Moulin", "Louise Michel", "Victor Hugo", "Jules Ferry", "Simone Veil", "Marie Curie",
             "Jean Jaurès", "Albert Camus", "Pierre Mendès France", "George Sand", "Aimé Césaire",
             "Lucie Aubrac", "Paul Éluard", "Joséphine Baker", "Germaine Tillion", "Olympe de Gouges"]
LEVELS = [level.value for level in opt.Level]
SUBJECTS = [subject.value for subject in opt.Subject]
SUBJECT_WEIGHTS = [25, 15, 12, 5, 3, 7, 8, 6, 3, 3, 6, 7]
SLOTS = [slot.value for slot in opt.Slot]  # type: ignore[attr-defined]
MODES = [mode.value for mode in opt.Mode]
DISTANCES = [distance.value for distance in opt.Distance]


def slot_weight(slot: str, pupil: bool) -> float:
    day, period = slot.split(" ")
    weight = {"9h-12h": 0.4, "14h-16h": 0.7, "16h-18h": 1.6, "18h-20h": 1.8}[period]
    if day in ("Samedi", "Dimanche"):
        weight *= 0.6
    if pupil and day == "Mercredi" and period in ("14h-16h", "16h-18h"):
        weight *= 3
    return weight


def ascii_slug(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in bare).strip("-")


class Campaign:
    def __init__(self, seed: int = 2020):
        self.rng = random.Random(seed)
        postcodes = geo.all_postcodes()
        weights = [max(geo.communes(p)[0].population, 1) ** 0.8 for p in postcodes]
        self._postcodes, self._weights = postcodes, weights

    def postcode(self) -> tuple[str, str]:
        code = self.rng.choices(self._postcodes, self._weights)[0]
        return code, geo.communes(code)[0].name

    def pick(self, population: list[str], weights: list[float], count: int) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < count:
            item = self.rng.choices(population, weights)[0]
            if item not in chosen:
                chosen.append(item)
        return chosen

    def slots(self, count: int, pupil: bool) -> list[str]:
        picked = self.pick(SLOTS, [slot_weight(s, pupil) for s in SLOTS], count)
        return sorted(picked, key=SLOTS.index)

    def phone(self, prefix: str) -> str:
        """A number in a range France has allocated (some 06 9x ranges are not)."""
        while True:
            digits = "".join(str(self.rng.randrange(10)) for _ in range(8))
            number = prefix + digits
            if phonenumbers.is_valid_number(phonenumbers.parse(number, "FR")):
                return " ".join(number[i:i + 2] for i in range(0, 10, 2))

    def volunteer(self, n: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        postcode, town = self.postcode()
        start = rng.randrange(len(LEVELS) - 1)
        answers = {
            "first_name": first, "last_name": last,
            "email": f"{ascii_slug(first)}.{ascii_slug(last)}.{n}@exemple.fr",
            "phone": self.phone(rng.choice(["06", "07"])),
            "postcode": postcode, "town": town,
            "levels": LEVELS[start:start + rng.choice([2, 2, 3])],
            "subjects": self.pick(SUBJECTS, SUBJECT_WEIGHTS, rng.choice([1, 2, 2, 3])),
            "slots": self.slots(rng.randint(3, 8), pupil=False),
            "mode": (mode := rng.choices(MODES, [35, 30, 35])[0]),
            "capacity": rng.choices([1, 2, 3, 4, 5], [40, 35, 15, 6, 4])[0],
            "hours_per_week": rng.choice([1, 1.5, 2, 2, 3, 4]),
            "motivation": rng.choice(MOTIVATIONS), "consent": True,
        }
        if mode != opt.Mode.REMOTE.value:
            answers["max_distance"] = rng.choices(DISTANCES, [10, 30, 45, 15])[0]
        if association := rng.choice(ASSOCIATIONS):
            answers["association"] = association
        if rng.random() < 0.2:
            answers["constraints"] = rng.choice(["Pas de déplacement le soir", "Disponible hors vacances scolaires",
                                                 "Pas de visio le week-end"])
        return answers

    def structure(self, n: int) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choices([opt.StructureType.COLLEGE, opt.StructureType.LYCEE, opt.StructureType.LYCEE_PRO,
                            opt.StructureType.ASSOCIATION], [55, 20, 10, 15])[0]
        postcode, town = self.postcode()
        namesake = rng.choice(NAMESAKES)
        name = {opt.StructureType.COLLEGE: f"Collège {namesake}", opt.StructureType.LYCEE: f"Lycée {namesake}",
                opt.StructureType.LYCEE_PRO: f"Lycée professionnel {namesake}",
                opt.StructureType.ASSOCIATION: f"Association {rng.choice(['Réussite', 'Coup de pouce', 'Tremplin'])} {town}"}[kind]
        levels = LEVELS[:4] if kind == opt.StructureType.COLLEGE else LEVELS[4:] \
            if kind in (opt.StructureType.LYCEE, opt.StructureType.LYCEE_PRO) else LEVELS
        count = rng.randint(1, 5)
        answers: dict[str, Any] = {
            "name": name, "type": kind.value, "contact": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "email": f"accompagnement.{n}@{ascii_slug(name)[:30].strip('-')}.exemple.fr",
            "phone": self.phone(rng.choice(["01", "02", "03", "04", "05"])),
            "postcode": postcode, "town": town, "pupil_count": count,
        }
        for p in range(1, count + 1):
            answers[f"pupil_{p}_level"] = rng.choice(levels)
            answers[f"pupil_{p}_subjects"] = self.pick(SUBJECTS, SUBJECT_WEIGHTS, rng.choice([1, 1, 2]))
            answers[f"pupil_{p}_slots"] = self.slots(rng.randint(2, 6), pupil=True)
            answers[f"pupil_{p}_mode"] = rng.choices(MODES, [25, 45, 30])[0]
            if difficulty := rng.choice(DIFFICULTIES):
                answers[f"pupil_{p}_difficulties"] = difficulty
        return answers

    def volunteers(self, count: int) -> list[dict[str, Any]]:
        return [self.volunteer(n) for n in range(count)]

    def structures(self, count: int) -> list[dict[str, Any]]:
        return [self.structure(n) for n in range(count)]
