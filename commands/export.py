"""`make export EMAIL=…`: everything binome holds about one address, as JSON on the standard
output, to hand to the person (right of access). With several bases, what each base holds, under
its key.

    python -m commands.export <email> > export.json
"""

from __future__ import annotations

import json
import sys

from shared import bootstrap
from shared.clock import now
from shared.errors import BinomeError
from shared.privacy.export import export_email
from shared.settings import get_settings


def main(argv: list[str]) -> int:
    if len(argv) != 1 or "@" not in argv[0]:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    try:
        documents = {base.key: export_email(base.gateway, bootstrap.typeform(), get_settings(), argv[0], now())
                     for base in bootstrap.every_base()}
        document = documents if bootstrap.bases().several else next(iter(documents.values()))
    except BinomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
