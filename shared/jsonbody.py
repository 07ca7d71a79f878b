"""JSON from a request body, where whatever cannot be read is a `ValueError`.

`json.loads` raises `RecursionError` on arrays or objects nested a few thousand deep, which a
body well under the size limit can hold; callers that keep unreadable bodies as « Rejeté » only
catch `ValueError`, so such a body would otherwise crash the function.
"""

from __future__ import annotations

import json
from typing import Any


def loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON imbriqué trop profondément") from None
