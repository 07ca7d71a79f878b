"""The real sendgrid client against the local SendGrid; events checked with SendGrid's own verifier."""

from __future__ import annotations

import json

import pytest
import requests
from python_http_client.exceptions import BadRequestsError, ServiceUnavailableError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.mail import (Attachment, Category, ContentId, CustomArg, Disposition, FileContent, FileName,
                                   FileType, Mail, MailSettings, SandBoxMode)

from shared.settings import DEV_SENDGRID_EVENT_PUBLIC_KEY
from tests.receiver import Receiver

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@pytest.fixture
def client(emulator) -> SendGridAPIClient:
    return SendGridAPIClient(api_key="SG.test", host=f"{emulator.url}/sendgrid")


def welcome(to: str = "lea@exemple.fr") -> Mail:
    mail = Mail(from_email=("binome@example.org", "binome"), to_emails=[(to, "Léa Martin")],
                subject="Bienvenue dans binome", plain_text_content="Bonjour Léa,",
                html_content="<p>Bonjour <strong>Léa</strong>,</p>")
    mail.category = Category("accuse-reception")
    mail.custom_arg = CustomArg("airtable_record_id", "recAAAAAAAAAAAAAA")
    return mail


def test_send_is_accepted_with_a_message_id_and_captured(client, emulator):
    response = client.send(welcome())
    assert response.status_code == 202 and response.body in (b"", "")
    message_id = response.headers["X-Message-Id"]
    [message] = emulator.control("GET", "/outbox")["messages"]
    assert message["x_message_id"] == message_id
    assert message["subject"] == "Bienvenue dans binome"
    assert message["html"] == "<p>Bonjour <strong>Léa</strong>,</p>" and message["text"] == "Bonjour Léa,"
    assert message["to"] == [{"email": "lea@exemple.fr", "name": "Léa Martin"}]
    assert message["categories"] == ["accuse-reception"]
    assert message["custom_args"] == {"airtable_record_id": "recAAAAAAAAAAAAAA"}


def test_sandbox_mode_answers_200_and_sends_nothing(client, emulator):
    mail = welcome()
    mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    assert client.send(mail).status_code == 200
    assert emulator.control("GET", "/outbox")["messages"] == []


def test_dynamic_template_needs_no_content(client, emulator):
    body = {"from": {"email": "binome@example.org"}, "template_id": "d-" + "a" * 32,
            "personalizations": [{"to": [{"email": "a@exemple.fr"}], "dynamic_template_data": {"prenom": "Léa"}}]}
    assert client.client.mail.send.post(request_body=body).status_code == 202
    assert emulator.control("GET", "/outbox")["messages"][0]["dynamic_template_data"] == {"prenom": "Léa"}


@pytest.mark.parametrize("change, field", [
    (lambda b: b.pop("from"), "from"),
    (lambda b: b.update({"from": {"email": "not-an-address"}}), "from.email"),
    (lambda b: b.pop("personalizations"), "personalizations"),
    (lambda b: b["personalizations"][0].pop("to"), "personalizations.0.to"),
    (lambda b: b["personalizations"][0]["to"][0].update({"email": "x@"}), "personalizations.0.to.0.email"),
    (lambda b: b["personalizations"][0]["to"][0].update({"name": "Martin; Léa"}), "personalizations.0.to.0.name"),
    (lambda b: b.pop("content"), "content"),
    (lambda b: b.pop("subject"), "subject"),
    (lambda b: b.update({"reply_to": {"email": "a@b.fr"}, "reply_to_list": [{"email": "c@d.fr"}]}), "reply_to"),
    (lambda b: b["personalizations"][0].update({"to": [{"email": f"p{i}@x.fr"} for i in range(1001)]}),
     "personalizations"),
    (lambda b: b.update({"template_id": "not-a-template"}), "template_id"),
    (lambda b: b.update({"custom_args": {"k": "x" * 10_001}}), "custom_args"),
    (lambda b: b.update({"custom_args": {"attempt": 2}}), "custom_args"),
    (lambda b: b["personalizations"][0].update({"custom_args": {"ok": True}}), "personalizations.0.custom_args"),
    (lambda b: b["personalizations"][0].update({"cc": [{"email": b["personalizations"][0]["to"][0]["email"].upper()}]}),
     "personalizations.0.cc"),
    (lambda b: b.update({"attachments": [{"content": "iVBORw0K", "filename": "a.png", "disposition": "inline"}]}),
     "attachments.0.content_id"),
    (lambda b: b.update({"attachments": [{"content": "not base64!", "filename": "a.png"}]}), "attachments.0.content"),
    (lambda b: b.update({"attachments": [{"content": "iVBORw0K"}]}), "attachments.0.filename"),
    (lambda b: b.update({"attachments": [{"content": "iVBORw0K", "filename": "a", "disposition": "x"}]}),
     "attachments.0.disposition"),
])
def test_invalid_requests_get_sendgrids_error_shape(client, emulator, change, field):
    body = welcome().get()
    change(body)
    with pytest.raises(BadRequestsError) as excinfo:
        client.client.mail.send.post(request_body=body)
    errors = excinfo.value.to_dict["errors"]
    assert field in [e["field"] for e in errors]
    assert all(set(e) == {"message", "field", "help"} for e in errors)
    assert emulator.control("GET", "/outbox")["messages"] == []


def test_an_inline_image_built_by_the_client_library_is_kept_with_the_message(client, emulator):
    mail = welcome()
    mail.attachment = Attachment(FileContent("iVBORw0KGgo="), FileName("chart.png"), FileType("image/png"),
                                 Disposition("inline"), ContentId("chart"))
    assert client.send(mail).status_code == 202
    [message] = emulator.control("GET", "/outbox")["messages"]
    assert message["attachments"] == [{"filename": "chart.png", "type": "image/png", "disposition": "inline",
                                       "content_id": "chart", "content": "iVBORw0KGgo="}]


def test_missing_api_key_is_401(emulator):
    response = requests.post(f"{emulator.url}/sendgrid/v3/mail/send", json=welcome().get(), timeout=5)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "The provided authorization grant is invalid, expired, "
                                                      "or revoked", "field": None, "help": None}]}


def test_injected_fault_uses_the_error_shape(client, emulator):
    emulator.fault(service="sendgrid", status=503)
    with pytest.raises(ServiceUnavailableError) as excinfo:
        client.send(welcome())
    assert "errors" in excinfo.value.to_dict
    assert client.send(welcome()).status_code == 202


def test_events_are_signed_as_sendgrid_signs_and_bounces_are_reported(client, emulator):
    with Receiver() as receiver:
        emulator.control("POST", "/config", json={"sendgrid_event_url": f"{receiver.url}/sendgrid_events/"})
        mail = welcome()
        mail.add_to("inconnu@bounce.example")
        client.send(mail)
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 10})["idle"]
        batches = list(receiver.received)

    verifier = EventWebhook(DEV_SENDGRID_EVENT_PUBLIC_KEY)  # binome's local setting, SendGrid's verifier
    key = verifier.convert_public_key_to_ecdsa(DEV_SENDGRID_EVENT_PUBLIC_KEY)
    for batch in batches:
        assert batch.path == "/sendgrid_events/"
        assert verifier.verify_signature(batch.body.decode(), batch.headers[SIGNATURE], batch.headers[TIMESTAMP], key)
        assert not verifier.verify_signature(batch.body.decode() + " ", batch.headers[SIGNATURE],
                                             batch.headers[TIMESTAMP], key)
    events = [event for batch in batches for event in batch.json()]  # however SendGrid grouped them
    processed = [e for e in events if e["event"] == "processed"]
    outcome = [e for e in events if e["event"] != "processed"]
    assert sorted(e["email"] for e in processed) == ["inconnu@bounce.example", "lea@exemple.fr"]
    by_email = {e["email"]: e for e in outcome}
    assert by_email["lea@exemple.fr"]["event"] == "delivered"
    assert by_email["inconnu@bounce.example"]["event"] == "bounce"
    assert by_email["inconnu@bounce.example"]["reason"].startswith("550")
    for event in processed + outcome:
        assert event["airtable_record_id"] == "recAAAAAAAAAAAAAA"  # custom args at the top level
        assert event["category"] == ["accuse-reception"]
        assert event["sg_message_id"].startswith(emulator.control("GET", "/outbox")["messages"][0]["x_message_id"])
        assert {"timestamp", "sg_event_id", "smtp-id"} <= set(event)


def test_failed_event_deliveries_are_retried_with_the_same_events(client, emulator):
    with Receiver(statuses=[500, 503]) as receiver:
        emulator.control("POST", "/config", json={"sendgrid_event_url": receiver.url})
        client.send(welcome())
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 10})["idle"]
        received = list(receiver.received)
    [delivery] = emulator.control("GET", "/deliveries")["deliveries"]
    assert delivery["state"] == "delivered"
    assert [a.get("status") for a in delivery["attempts"]] == [500, 503, 200]
    assert len({r.body for r in received}) == 1  # the same batch, posted again
    assert sorted(e["event"] for e in received[0].json()) == ["delivered", "processed"]


def test_events_of_several_messages_share_a_batch(client, emulator):
    with Receiver() as receiver:
        emulator.control("POST", "/config", json={"sendgrid_event_url": receiver.url, "time_scale": 0.02})
        for n in range(5):  # within SendGrid's batching window
            mail = welcome()
            mail.personalizations[0].tos[0]["email"] = f"p{n}@exemple.fr"
            client.send(mail)
        assert emulator.control("POST", "/deliveries/wait", json={"timeout": 10})["idle"]
    events = [e for r in receiver.received for e in r.json()]
    assert len(events) == 10 and len(receiver.received) < 5


def test_a_batch_of_events_stops_growing_at_sendgrids_batch_size():
    """A slow receiver gets several posts of at most 768 KB, not one that outgrows its body limit."""
    from emulators.sendgrid.api import MAX_BATCH_BYTES, EventBatch
    from emulators.sendgrid.events import EventSigner

    batch, event = EventBatch(EventSigner()), {"event": "delivered", "email": "lea@exemple.fr", "note": "x" * 500}
    added = 0
    while batch.add([event, event]):
        added += 2
    body, _ = batch.render(1)
    assert MAX_BATCH_BYTES - 2 * 600 < len(body) <= MAX_BATCH_BYTES and len(json.loads(body)) == added
    assert not batch.add([event])  # posted: fixed, a retry posts the same body
    assert EventBatch(EventSigner()).add([{"note": "y" * (MAX_BATCH_BYTES * 2)}])  # one alone always goes
