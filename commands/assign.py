"""`make assign`: the whole-pool assignment, written as proposals for coordinators to review;
`make publish`: the proposals they validated become binômes « Proposé » and their mentors are asked.
Each base's pool on its own, every base in turn.

    python -m commands.assign [publish]
"""

from __future__ import annotations

import sys

from shared import bootstrap
from shared.errors import BinomeError


def main(argv: list[str]) -> int:
    try:
        for base in bootstrap.every_base():
            prefix = f"Base {base.key} : " if bootstrap.bases().several else ""
            if argv[:1] == ["publish"]:
                print(f"{prefix}Propositions publiées : {base.proposals.publish()} binôme(s) proposé(s).")
            else:
                print(prefix + base.proposals.propose().line())
    except BinomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
