"""Build `postcodes.json.gz`, France's postcodes and their communes, from official data.

Source: the `@etalab/decoupage-administratif` npm package (MIT), France's official
administrative division (communes with their postcodes, INSEE codes, départements, régions
and populations). To rebuild after a new release:

    npm pack @etalab/decoupage-administratif@6.0.0
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python -m schemas.geo.build_postcodes package/data/communes.json

Output: `{"75011": [["Paris", "75056", "75", "11", 2133111]], …}`, one entry per current commune
served by the postcode (name, INSEE code, département, région, population), most populous first.
The package carries no coordinates; proximity uses commune, département and région.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("postcodes.json.gz")


def build(communes: list[dict[str, Any]]) -> dict[str, list[list[Any]]]:
    by_postcode: dict[str, list[list[Any]]] = defaultdict(list)
    for commune in communes:
        if commune.get("type") != "commune-actuelle":
            continue  # delegated and associated communes share their parent's postcodes
        entry = [commune["nom"], commune["code"], commune.get("departement", ""), commune.get("region", ""),
                 int(commune.get("population") or 0)]
        for postcode in commune.get("codesPostaux", []):
            by_postcode[postcode].append(entry)
    return {code: sorted(entries, key=lambda e: -e[4]) for code, entries in sorted(by_postcode.items())}


def main(source: str) -> None:
    table = build(json.loads(Path(source).read_text(encoding="utf-8")))
    with gzip.open(OUTPUT, "wt", encoding="utf-8") as out:
        json.dump(table, out, ensure_ascii=False, separators=(",", ":"))
    print(f"{len(table)} codes postaux écrits dans {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1])
