"""`make deploy` (`DRY_RUN=1 make deploy` prints the plan and changes nothing).

Exit codes: 0 done, 1 a step failed (running again is safe), 2 settings refused.
"""

from __future__ import annotations

import sys

from deploy import plan, runner, settings


def main() -> int:
    try:
        deploy_settings, app = settings.load()
    except settings.DeployRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        runner.deploy(deploy_settings, app, plan.build(deploy_settings, app))
    except runner.StepFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
