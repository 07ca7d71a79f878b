"""Build `territories.json.gz`: France's départements, régions and intercommunalités (EPCI), to
place people and antennas in bands a person understands (same commune, intercommunalité,
département, région).

Source: the same `@etalab/decoupage-administratif` npm package (MIT) as the postcodes. To rebuild:

    npm pack @etalab/decoupage-administratif@6.0.0
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python -m schemas.geo.build_territories package/data

Output: `{"departements": {"69": ["Rhône", "84"]}, "regions": {"84": "Auvergne-Rhône-Alpes"},
"epci": {"200046977": "Métropole de Lyon"}, "commune_epci": {"69123": "200046977"}}`, and
`departements.json`, the list of départements (code and name) that the base offers as options.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("territories.json.gz")
DEPARTEMENTS = Path(__file__).with_name("departements.json")


def build(folder: Path) -> dict[str, Any]:
    def load(name: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads((folder / name).read_text(encoding="utf-8"))
        return data

    epcis = load("epci.json")
    return {
        "departements": {d["code"]: [d["nom"], d["region"]] for d in load("departements.json")},
        "regions": {r["code"]: r["nom"] for r in load("regions.json")},
        "epci": {e["code"]: e["nom"] for e in epcis},
        "commune_epci": {m["code"]: e["code"] for e in epcis for m in e["membres"]},
    }


def main(folder: str) -> None:
    territories = build(Path(folder))
    with gzip.open(OUTPUT, "wt", encoding="utf-8") as out:
        json.dump(territories, out, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    listed = [[code, name] for code, (name, _) in sorted(territories["departements"].items())]
    DEPARTEMENTS.write_text("[\n" + ",\n".join(json.dumps(d, ensure_ascii=False) for d in listed) + "\n]\n",
                            encoding="utf-8")
    print(f"{len(territories['departements'])} départements, {len(territories['epci'])} EPCI écrits dans {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1])
