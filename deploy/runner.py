"""Run a plan, or only print it.

Commands go through an injected `CommandRunner` and vendor calls through injected executors, so a
test can run a whole plan without gcloud or the network and see exactly what would have run.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Mapping, Protocol, Sequence, TextIO

from deploy.catalogue import SECRETS
from deploy.settings import DeploySettings
from deploy.steps import ApiCall, Command, CreateOrUpdate, Step, render, reveal, urls_needed
from deploy.vendors import EXECUTORS, Executor
from shared.errors import BinomeError
from shared.settings import Settings

class StepFailed(BinomeError):
    """A step of the deploy failed; the steps before it are done and running again is safe."""

class CommandRunner(Protocol):
    def __call__(self, argv: Sequence[str], capture: bool) -> tuple[int, str]:
        """Run `argv`; the exit code, and its standard output when `capture`."""
        ...

def run_subprocess(argv: Sequence[str], capture: bool) -> tuple[int, str]:
    argv = [sys.executable, *argv[1:]] if argv[0] == "python" else list(argv)
    done = subprocess.run(argv, check=False, text=True, capture_output=capture)
    return done.returncode, done.stdout if capture else ""

def print_plan(plan: list[Step], out: TextIO) -> None:
    out.write("DRY_RUN=1 : rien n'est exécuté. Plan du déploiement :\n\n")
    out.write(render(plan))

class Runner:
    def __init__(self, deploy: DeploySettings, app: Settings, run: CommandRunner = run_subprocess,
                 executors: Mapping[str, Executor] = EXECUTORS, out: TextIO = sys.stdout):
        self.deploy, self.app, self.run, self.executors, self.out = deploy, app, run, executors, out
        self.secrets = {name: str(getattr(app, name)) for name in SECRETS}
        self.urls: dict[str, str] = {}

    def execute(self, plan: list[Step]) -> None:
        for number, step in enumerate(plan, 1):
            self.out.write(f"[{number}/{len(plan)}] {step.why}\n")
            self.out.flush()
            self._resolve_urls(step)
            self._step(step)

    def _step(self, step: Step) -> None:
        if isinstance(step, Command):
            self._command(step.argv, step.why)
        elif isinstance(step, CreateOrUpdate):
            exists = self.run(self._reveal(step.probe), True)[0] == 0
            self._command(step.update if exists else step.create, step.why)
        else:
            self._vendor(step)

    def _command(self, argv: Sequence[str], why: str) -> None:
        code, _ = self.run(self._reveal(argv), False)
        if code != 0:
            raise StepFailed(f"Échec ({code}) de l'étape « {why} ». Corrigez puis relancez make deploy : "
                             "les étapes déjà faites seront refaites sans rien dupliquer.")

    def _vendor(self, call: ApiCall) -> None:
        revealed = ApiCall(call.action, call.method, call.url, reveal(call.body, self.secrets, self.urls),
                           call.why, call.params)
        try:
            self.out.write(f"   {self.executors[call.action](self.app, revealed)}\n")
        except Exception as exc:  # a vendor client's own errors: name the step, never the secrets
            raise StepFailed(f"Échec de l'étape « {call.why} » : {type(exc).__name__}. Corrigez puis relancez "
                             "make deploy.") from exc

    def _resolve_urls(self, step: Step) -> None:
        """A function's address exists once it is deployed: asked of gcloud when first needed."""
        for name in sorted(urls_needed(step) - set(self.urls)):
            code, url = self.run(("gcloud", "functions", "describe", name, "--gen2",
                                  f"--project={self.deploy.GCP_PROJECT}", f"--region={self.deploy.GCP_REGION}",
                                  "--format=value(serviceConfig.uri)"), True)
            if code != 0 or not url.strip():
                raise StepFailed(f"Adresse de la fonction {name} introuvable : est-elle déployée ?")
            self.urls[name] = url.strip()

    def _reveal(self, argv: Sequence[str]) -> tuple[str, ...]:
        return tuple(reveal(list(argv), self.secrets, self.urls))

def deploy(deploy_settings: DeploySettings, app: Settings, plan: list[Step], run: CommandRunner = run_subprocess,
           executors: Mapping[str, Executor] = EXECUTORS, out: TextIO = sys.stdout) -> None:
    if deploy_settings.DRY_RUN:
        print_plan(plan, out)
        return
    Runner(deploy_settings, app, run, executors, out).execute(plan)
