"""`make deploy`: the plan for a full production configuration, the refusal of missing settings,
and a runner that executes nothing with DRY_RUN (gcloud and the vendors replaced by recorders)."""

from __future__ import annotations

import io

import pytest

import main
from deploy import plan as planner
from deploy import runner, settings
from deploy.catalogue import FUNCTIONS, JOBS, SECRETS, spec
from deploy.steps import ApiCall, Command, CreateOrUpdate, render
from shared.settings import PRODUCTION_REQUIRED
from shared.signatures import AUTOMATION_HEADER
from tests.test_settings import PRODUCTION

DEPLOY = {"GCP_PROJECT": "binome-prod", "GCP_REGION": "europe-west1",
          "GCP_SERVICE_ACCOUNT": "binome-fn@binome-prod.iam.gserviceaccount.com",
          "GCP_SCHEDULER_SERVICE_ACCOUNT": "binome-cron@binome-prod.iam.gserviceaccount.com"}
# Secret values that cannot occur in a plan by chance, so finding one there is a leak.
SECRET_VALUES = {name: f"S3cr3t{index}-{name.lower()}-9f2c" for index, name in enumerate(SECRETS)}
SECRET_VALUES["BINOME_AIRTABLE_BUDGET_URL"] = "redis://:S3cr3t-budget-auth-9f2c@10.20.0.3:6379/0"
APP = {**PRODUCTION, **SECRET_VALUES, "BINOME_ENV": "production",
       "DOCUSIGN_CONNECT_KEY": "S3cr3t-old-connect-7a1,S3cr3t-new-connect-7a2"}
# Vendor timeouts (vendor-apis.md): a function must give up no later than its caller does.
CALLER_WAITS = {"typeform_webhook": 30, "sendgrid_events": 10, "docusign_connect": 100}


def configured(**deploy: str) -> tuple[settings.DeploySettings, settings.Settings]:
    return settings.isolated({**DEPLOY, **deploy}, APP)


def full_plan(**deploy: str) -> list[planner.Step]:
    return planner.build(*configured(**deploy))


def deploy_command(function: str) -> tuple[str, ...]:
    return next(s.argv for s in full_plan() if isinstance(s, Command) and s.argv[:4] == (
        "gcloud", "functions", "deploy", function))


def flag(argv: tuple[str, ...], name: str) -> str:
    return next(arg.split("=", 1)[1] for arg in argv if arg.startswith(f"--{name}="))


def pairs(value: str) -> dict[str, str]:
    delimiter = ","
    if value.startswith("^"):
        delimiter, value = value[1], value[3:]
    return dict(item.split("=", 1) for item in value.split(delimiter))


def test_every_entry_point_is_deployed_from_one_source_tree():
    assert {f.name for f in FUNCTIONS} == set(main.ENTRY_POINTS)
    for name in main.ENTRY_POINTS:
        argv = deploy_command(name)
        assert {"--gen2", "--runtime=python312", "--source=.", f"--entry-point={name}", "--trigger-http",
                "--region=europe-west1", "--project=binome-prod"} <= set(argv)


@pytest.mark.parametrize("name", ["typeform_webhook", "docusign_connect", "sendgrid_events", "choose_mentor",
                                  "first_contact", "suggest_mentors", "reconcile"])
def test_public_only_where_a_vendor_a_person_or_an_airtable_automation_calls_in(name):
    argv = deploy_command(name)
    assert "--allow-unauthenticated" in argv and "--no-allow-unauthenticated" not in argv


@pytest.mark.parametrize("name", ["follow_up", "retention"])
def test_functions_only_the_scheduler_calls_are_private_and_the_scheduler_may_invoke_them(name):
    argv = deploy_command(name)
    assert "--no-allow-unauthenticated" in argv and "--allow-unauthenticated" not in argv
    bindings = [s.argv for s in full_plan() if isinstance(s, Command) and "add-invoker-policy-binding" in s.argv]
    assert any(name in b and "--member=serviceAccount:binome-cron@binome-prod.iam.gserviceaccount.com" in b
               for b in bindings)


@pytest.mark.parametrize("name, waits", CALLER_WAITS.items())
def test_webhook_timeouts_stay_within_what_the_sender_waits(name, waits):
    assert int(flag(deploy_command(name), "timeout").rstrip("s")) <= waits


def test_scheduled_functions_stop_within_their_jobs_deadline():
    for job in JOBS:
        assert int(flag(deploy_command(job.function), "timeout").rstrip("s")) <= job.attempt_deadline_s <= 1800


def test_matching_gets_more_memory_and_cpu_and_every_function_a_cap_on_instances():
    suggest = deploy_command("suggest_mentors")
    assert flag(suggest, "memory") == "4Gi" and flag(suggest, "cpu") == "2"
    assert flag(deploy_command("follow_up"), "memory") == "1Gi"
    for function in FUNCTIONS:
        argv = deploy_command(function.name)
        if function.name == "typeform_webhook":  # verifies and queues: a burst is answered at once
            assert int(flag(argv, "max-instances")) * int(flag(argv, "concurrency")) >= 100
        else:  # one request at a time per instance: the library's clients are not shared across threads
            assert 1 <= int(flag(argv, "max-instances")) <= 3 and flag(argv, "concurrency") == "1"


def test_every_setting_reaches_every_function_and_secrets_only_from_secret_manager():
    for name in main.ENTRY_POINTS:
        argv = deploy_command(name)
        env, secrets = pairs(flag(argv, "set-env-vars")), pairs(flag(argv, "set-secrets"))
        assert env["BINOME_ENV"] == "production" and env["NUMBA_CACHE_DIR"] == "/tmp/numba"
        assert set(PRODUCTION_REQUIRED) <= set(env) | set(secrets)
        assert set(secrets) == set(SECRETS) and not set(env) & set(SECRETS)
        assert secrets["AIRTABLE_TOKEN"] == "binome-airtable-token:latest"
        assert env["SENDGRID_FROM"] == PRODUCTION["SENDGRID_FROM"]


def test_a_value_with_a_comma_switches_gcloud_to_another_delimiter():
    value = planner.joined({"SENDGRID_FROM": "Collectif, binome <c@x.org>", "A": "1"})
    assert value.startswith("^|^") and pairs(value) == {"SENDGRID_FROM": "Collectif, binome <c@x.org>", "A": "1"}
    assert planner.joined({"A": "1", "B": "2"}) == "A=1,B=2"


def test_the_runtime_account_may_read_every_secret():
    bindings = [s.argv for s in full_plan() if isinstance(s, Command) and s.argv[:3] == (
        "gcloud", "secrets", "add-iam-policy-binding")]
    bound = {argv[3] for argv in bindings}
    for argv in bindings:
        assert flag(argv, "role") == "roles/secretmanager.secretAccessor"
        assert flag(argv, "member") == "serviceAccount:binome-fn@binome-prod.iam.gserviceaccount.com"
    assert bound == {planner.secret_name(configured()[0], name) for name in SECRETS}


def test_the_intake_queue_paces_one_writer_that_only_its_tasks_may_call():
    plan = full_plan()
    [queue] = [s for s in plan if isinstance(s, CreateOrUpdate) and s.probe[1] == "tasks"]
    for argv in (queue.create, queue.update):
        assert flag(argv, "max-dispatches-per-second") == "5" and flag(argv, "max-concurrent-dispatches") == "1"
    assert plan.index(queue) < min(plan.index(s) for s in plan if isinstance(s, Command) and s.argv[1:3] == (
        "functions", "deploy"))  # the webhook must find its queue
    [writer] = [s for s in plan if isinstance(s, Command) and s.argv[1:4] == ("functions", "deploy", "intake_writer")]
    assert "--no-allow-unauthenticated" in writer.argv
    [invoker] = [s for s in plan if isinstance(s, Command) and "add-invoker-policy-binding" in s.argv
                 and "intake_writer" in s.argv]
    assert flag(invoker.argv, "member") == "serviceAccount:binome-fn@binome-prod.iam.gserviceaccount.com"
    webhook = next(s for s in plan if isinstance(s, Command) and s.argv[1:4] == ("functions", "deploy",
                                                                                "typeform_webhook"))
    environment = flag(webhook.argv, "set-env-vars")
    assert "BINOME_INTAKE_QUEUE=projects/binome-prod/locations/" in environment
    assert "/queues/airtable-intake" in environment
    assert "BINOME_TASKS_INVOKER=binome-fn@binome-prod.iam.gserviceaccount.com" in environment


def test_every_function_reaches_the_shared_budget_and_background_work_yields_to_people():
    plan = full_plan()
    stores = [s for s in plan if isinstance(s, CreateOrUpdate) and s.probe[1] in ("redis", "compute")]
    assert [s.probe[1] for s in stores] == ["compute", "redis"]
    assert "--enable-auth" in stores[1].create  # its URL, password included, is a secret
    first_deploy = min(plan.index(s) for s in plan if isinstance(s, Command) and s.argv[1:3] == ("functions", "deploy"))
    assert all(plan.index(s) < first_deploy for s in stores)
    background = {"intake_writer", "suggest_mentors", "follow_up", "reconcile", "retention"}
    for name in main.ENTRY_POINTS:
        argv = deploy_command(name)
        assert flag(argv, "vpc-connector") == "binome-budget" and flag(argv, "egress-settings") == "private-ranges-only"
        assert pairs(flag(argv, "set-env-vars"))["BINOME_AIRTABLE_PRIORITY"] == (
            "background" if name in background else "people")
        assert pairs(flag(argv, "set-secrets"))["BINOME_AIRTABLE_BUDGET_URL"].endswith(":latest")


def test_scheduler_jobs_are_created_or_updated_in_paris_time_with_oidc_and_the_automation_secret():
    jobs = [s for s in full_plan() if isinstance(s, CreateOrUpdate) and s.probe[1] == "scheduler"]
    assert [j.create[5] for j in jobs] == ["binome-suggest-mentors", "binome-follow-up", "binome-reconcile",
                                           "binome-retention"]
    for job in jobs:
        assert job.probe[:4] == ("gcloud", "scheduler", "jobs", "describe")
        assert job.create[3] == "create" and job.update[3] == "update"
        for argv in (job.create, job.update):
            assert "--time-zone=Europe/Paris" in argv and "--http-method=POST" in argv
            assert "--oidc-service-account-email=binome-cron@binome-prod.iam.gserviceaccount.com" in argv
            assert flag(argv, "uri") == flag(argv, "oidc-token-audience") == f"<url:{job.create[5][7:].replace('-', '_')}>"
        headers = pairs(flag(job.create, "headers"))
        assert headers[AUTOMATION_HEADER] == "<secret:AUTOMATION_SECRET>"
        assert pairs(flag(job.update, "update-headers")) == headers
    assert flag(jobs[1].create, "schedule") == "0 7 * * *"


def test_vendors_are_pointed_at_the_deployed_functions():
    calls = [s for s in full_plan() if isinstance(s, ApiCall)]
    typeform = [c for c in calls if c.action == "typeform_webhook"]
    assert {c.params["form_id"] for c in typeform} == {"AbCdEf12", "GhIjKl34", "MnOpQr56"}
    for call in typeform:
        assert call.method == "PUT" and call.url.endswith(f"/forms/{call.params['form_id']}/webhooks/binome")
        assert call.body["url"] == "https://binome.collectif.org/typeform_webhook/"
        assert call.body["secret"] == "<secret:TYPEFORM_SECRET>" and call.body["verify_ssl"] is True
    connect = next(c for c in calls if c.action == "docusign_connect")
    assert connect.body["name"] == "binome" and connect.body["urlToPublishTo"].endswith("/docusign_connect/")
    assert connect.body["includeHMAC"] == "true" and connect.body["requireAcknowledgment"] == "true"
    assert connect.body["deliveryMode"] == "SIM" and connect.body["eventData"]["format"] == "json"
    assert "envelope-completed" in connect.body["events"] and "envelope-declined" in connect.body["events"]
    events = next(c for c in calls if c.action == "sendgrid_event_webhook")
    assert events.method == "PATCH" and events.url == "https://api.sendgrid.com/v3/user/webhooks/event/settings"
    assert events.body["url"] == "https://binome.collectif.org/sendgrid_events/" and events.body["bounce"]
    assert any(c.action == "sendgrid_signed_webhook" for c in calls)


def test_the_base_is_provisioned_before_the_new_code_is_deployed():
    steps = full_plan()
    provision = next(i for i, s in enumerate(steps) if isinstance(s, Command) and "commands.provision" in s.argv)
    first_deploy = next(i for i, s in enumerate(steps) if isinstance(s, Command) and "deploy" in s.argv[:3])
    assert provision < first_deploy


def test_no_secret_appears_in_clear_in_the_plan():
    text = render(full_plan())
    assert "S3cr3t" not in text
    assert "<secret:AUTOMATION_SECRET>" in text and "<secret:TYPEFORM_SECRET>" in text


def test_missing_settings_are_refused_each_named():
    with pytest.raises(settings.DeployRefused) as refused:
        settings.isolated({}, {"BINOME_ENV": "production"})
    message = str(refused.value)
    for name in ("GCP_PROJECT", "GCP_REGION", "GCP_SERVICE_ACCOUNT", *PRODUCTION_REQUIRED):
        assert f"{name} (manquante)" in message, name


def test_a_deploy_of_local_settings_is_refused():
    with pytest.raises(settings.DeployRefused, match=r"BINOME_ENV \(doit valoir production\)"):
        settings.isolated(DEPLOY, {**APP, "BINOME_ENV": "local"})


def test_an_automation_secret_that_would_break_the_scheduler_header_is_refused():
    with pytest.raises(settings.DeployRefused, match="AUTOMATION_SECRET"):
        settings.isolated(DEPLOY, {**APP, "AUTOMATION_SECRET": "a,b"})


class Recorder:
    """Stands in for gcloud: records every command, answers a describe with a run.app address."""

    def __init__(self, existing: set[str] = frozenset(), fail: str = ""):
        self.commands: list[tuple[str, ...]] = []
        self.existing, self.fail = existing, fail

    def __call__(self, argv, capture):
        argv = tuple(argv)
        self.commands.append(argv)
        if argv[:3] == ("gcloud", "functions", "describe"):
            return 0, f"https://{argv[3].replace('_', '-')}-abc123-ew.a.run.app\n"
        if argv[:4] == ("gcloud", "scheduler", "jobs", "describe"):
            return (0 if argv[4] in self.existing else 1), ""
        return (1 if self.fail and self.fail in argv else 0), ""


def recording_executors(calls: list[ApiCall]):
    def record(app, call):
        calls.append(call)
        return "ok"
    return {action: record for action in ("typeform_webhook", "docusign_connect", "sendgrid_event_webhook",
                                          "sendgrid_signed_webhook")}


def test_dry_run_prints_the_plan_and_executes_nothing():
    deploy_settings, app = configured(DRY_RUN="1")
    recorder, calls, out = Recorder(), [], io.StringIO()
    runner.deploy(deploy_settings, app, planner.build(deploy_settings, app), recorder, recording_executors(calls),
                  out)
    assert recorder.commands == [] and calls == []
    assert "rien n'est exécuté" in out.getvalue() and "gcloud functions deploy typeform_webhook" in out.getvalue()


def test_a_real_run_fills_in_secrets_and_addresses_only_when_executing():
    deploy_settings, app = configured()
    recorder, calls = Recorder(existing={"binome-follow-up"}), []
    runner.deploy(deploy_settings, app, planner.build(deploy_settings, app), recorder, recording_executors(calls),
                  io.StringIO())
    follow_up = [c for c in recorder.commands if c[:3] == ("gcloud", "scheduler", "jobs") and "binome-follow-up" in c]
    assert follow_up[-1][3] == "update"  # it existed: updated, not created again
    assert [c[3] for c in recorder.commands if c[:3] == ("gcloud", "scheduler", "jobs") and c[3] != "describe"
            and "binome-reconcile" in c] == ["create"]
    update = follow_up[-1]
    assert flag(update, "uri") == "https://follow-up-abc123-ew.a.run.app"
    assert pairs(flag(update, "update-headers"))[AUTOMATION_HEADER] == APP["AUTOMATION_SECRET"]
    assert {c.body["secret"] for c in calls if c.action == "typeform_webhook"} == {APP["TYPEFORM_SECRET"]}
    assert len(calls) == 6 and any(c[:4] == ("gcloud", "functions", "deploy", "retention") for c in recorder.commands)


def test_a_failed_step_stops_the_deploy_and_says_running_again_is_safe():
    deploy_settings, app = configured()
    recorder, calls = Recorder(fail="typeform_webhook"), []
    with pytest.raises(runner.StepFailed, match="relancez make deploy"):
        runner.deploy(deploy_settings, app, planner.build(deploy_settings, app), recorder,
                      recording_executors(calls), io.StringIO())
    assert calls == [] and not any("docusign_connect" in c for c in recorder.commands)


def test_the_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in {**DEPLOY, **APP, "DRY_RUN": "1"}.items():
        monkeypatch.setenv(name, value)
    deploy_settings, app = settings.load()
    assert deploy_settings.DRY_RUN and deploy_settings.SCHEDULER_TIME_ZONE == "Europe/Paris"
    assert app.PUBLIC_URL == "https://binome.collectif.org"
    assert spec("typeform_webhook").public


# --- several bases ----------------------------------------------------------------------------

BASES = "idf=appIdfBinome00001:75,92,93,94;sud=appSudBinome00001:69,*"


def test_with_several_bases_each_has_its_queue_and_its_scheduler_jobs():
    deploy, app = settings.isolated(DEPLOY, {**APP, "BINOME_BASES": BASES})
    plan = planner.build(deploy, app)
    queues = [s for s in plan if isinstance(s, CreateOrUpdate) and s.probe[1] == "tasks"]
    assert [q.probe[4] for q in queues] == ["airtable-intake-idf", "airtable-intake-sud"]
    for queue in queues:
        assert flag(queue.create, "max-dispatches-per-second") == "5"  # each base's own budget
        assert flag(queue.create, "max-concurrent-dispatches") == "1"
    enqueuers = [s.argv[4] for s in plan if isinstance(s, Command) and s.argv[1:4] == (
        "tasks", "queues", "add-iam-policy-binding")]
    assert enqueuers == ["airtable-intake-idf", "airtable-intake-sud"]
    # The functions derive each base's queue from the prefix they are given: the same names.
    webhook = next(s for s in plan if isinstance(s, Command) and s.argv[1:4] == ("functions", "deploy",
                                                                                "typeform_webhook"))
    env = pairs(flag(webhook.argv, "set-env-vars"))
    assert env["BINOME_BASES"] == BASES
    deployed = app.rebuilt(BINOME_INTAKE_QUEUE=env["BINOME_INTAKE_QUEUE"])
    assert [deployed.for_base(b).BINOME_INTAKE_QUEUE.rsplit("/", 1)[1] for b in deployed.bases.bases] == [
        q.probe[4] for q in queues]
    jobs = [s for s in plan if isinstance(s, CreateOrUpdate) and s.probe[1] == "scheduler"]
    assert [j.create[5] for j in jobs] == [f"binome-{job}-{base}" for job in ("suggest-mentors", "follow-up",
                                                                             "reconcile", "retention")
                                           for base in ("idf", "sud")]
    assert flag(jobs[0].create, "message-body") == '{"base": "idf"}'
    follow_up = next(s.argv for s in plan if isinstance(s, Command) and s.argv[1:4] == ("functions", "deploy",
                                                                                        "follow_up"))
    assert flag(follow_up, "max-instances") == "2"  # both bases' jobs at once, each on its own budget
    assert flag(webhook.argv, "max-instances") == str(spec("typeform_webhook").max_instances)
    assert flag(jobs[1].create, "message-body") == '{"base": "sud"}'


def test_a_single_base_deploys_as_it_always_did():
    plan = full_plan()
    assert [s.probe[4] for s in plan if isinstance(s, CreateOrUpdate) and s.probe[1] == "tasks"] == ["airtable-intake"]
    assert "BINOME_BASES" not in pairs(flag(deploy_command("typeform_webhook"), "set-env-vars"))
    assert {flag(s.create, "message-body") for s in plan if isinstance(s, CreateOrUpdate)
            and s.probe[1] == "scheduler"} == {"{}"}
