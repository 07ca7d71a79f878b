"""The real docusign-esign client against the local DocuSign; Connect events checked by HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
import requests
from docusign_esign import (Checkbox, CustomFields, EnvelopeDefinition, EnvelopesApi, RecipientViewRequest, Tabs,
                            TemplateRole, Text, TextCustomField)
from docusign_esign.client.api_exception import ApiException

from tests.conftest import envelopes_api
from tests.receiver import Receiver

ACCOUNT = "00000000-0000-4000-8000-00000000b1a0"
CONNECT_KEY = "dev-docusign-connect-key"


@pytest.fixture
def envelopes(emulator) -> EnvelopesApi:
    return envelopes_api(emulator.url)


@pytest.fixture
def connect(emulator):
    with Receiver() as receiver:
        emulator.control("POST", "/config", json={"docusign_connect_url": f"{receiver.url}/docusign_connect/"})
        yield receiver


def agreement(role: str = "Bénévole", template: str = "convention-benevole", email: str = "lea@exemple.fr",
              status: str = "sent", reference: str = "recVolunteer00001:convention") -> EnvelopeDefinition:
    return EnvelopeDefinition(
        template_id=template, status=status, email_subject="Votre convention bénévole",
        custom_fields=CustomFields(text_custom_fields=[TextCustomField(name="binome", value=reference, show="false")]),
        template_roles=[TemplateRole(
            role_name=role, name="Léa Martin", email=email, client_user_id="recVolunteer00001",
            tabs=Tabs(text_tabs=[Text(tab_label="prenom", value="Léa")],
                      checkbox_tabs=[Checkbox(tab_label="majeur", selected="true")]))])


def signature_of(body: bytes) -> str:
    return base64.b64encode(hmac.new(CONNECT_KEY.encode(), body, hashlib.sha256).digest()).decode()


def test_create_get_and_sign_through_the_recipient_view(envelopes, connect, emulator):
    emulator.control("POST", "/config", json={"docusign_connect_include_data": ["recipients", "tabs"]})
    summary = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
    assert summary.status == "sent" and summary.uri == f"/envelopes/{summary.envelope_id}"
    envelope = envelopes.get_envelope(ACCOUNT, summary.envelope_id)
    assert (envelope.status, envelope.email_subject) == ("sent", "Votre convention bénévole")

    view = envelopes.create_recipient_view(ACCOUNT, summary.envelope_id, recipient_view_request=RecipientViewRequest(
        return_url="http://127.0.0.1:9/retour?binome=1", authentication_method="none", email="lea@exemple.fr",
        user_name="Léa Martin", client_user_id="recVolunteer00001"))
    page = requests.get(view.url, timeout=5)
    assert page.status_code == 200 and "Signer" in page.text and "Refuser" in page.text and "prenom : Léa" in page.text
    signed = requests.post(view.url, data={"action": "sign"}, allow_redirects=False, timeout=5)
    assert signed.headers["Location"] == "http://127.0.0.1:9/retour?binome=1&event=signing_complete"
    assert requests.post(view.url, data={"action": "sign"}, timeout=5).status_code == 410  # one use only
    assert envelopes.get_envelope(ACCOUNT, summary.envelope_id).status == "completed"

    events = connect.wait_for(3)
    # deliveries go out side by side, as DocuSign's do: in any order
    assert sorted(e.json()["event"] for e in events) == ["envelope-completed", "envelope-sent", "recipient-completed"]
    for event in events:
        assert event.path == "/docusign_connect/"
        assert hmac.compare_digest(event.headers["X-Docusign-Signature-1"], signature_of(event.body))
        payload = event.json()
        assert payload["data"]["envelopeId"] == summary.envelope_id
        assert payload["uri"] == f"/restapi/v2.1/accounts/{ACCOUNT}/envelopes/{summary.envelope_id}"
    completed = next(e.json() for e in events if e.json()["event"] == "envelope-completed")["data"]["envelopeSummary"]
    signer = completed["recipients"]["signers"][0]
    assert (completed["status"], signer["status"], signer["clientUserId"]) == ("completed", "completed", "recVolunteer00001")
    assert signer["tabs"]["textTabs"] == [{"tabLabel": "prenom", "value": "Léa"}]


def test_connect_carries_no_envelope_summary_unless_configured(envelopes, connect, emulator):
    summary = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
    emulator.control("POST", f"/envelopes/{summary.envelope_id}/complete")
    events = connect.wait_for(3)
    assert all("envelopeSummary" not in e.json()["data"] for e in events)
    assert [e.json()["data"]["envelopeId"] for e in events] == [summary.envelope_id] * 3


def test_recipients_tabs_and_custom_fields_only_when_asked(envelopes):
    summary = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
    plain = envelopes.get_envelope(ACCOUNT, summary.envelope_id)
    assert plain.recipients is None and plain.custom_fields is None
    full = envelopes.get_envelope(ACCOUNT, summary.envelope_id, include="recipients,tabs,custom_fields")
    [signer] = full.recipients.signers
    assert (signer.client_user_id, signer.tabs.text_tabs[0].value) == ("recVolunteer00001", "Léa")
    assert [(f.name, f.value) for f in full.custom_fields.text_custom_fields] == [("binome", "recVolunteer00001:convention")]
    recipients = envelopes.list_recipients(ACCOUNT, summary.envelope_id)
    assert recipients.signers[0].email == "lea@exemple.fr" and recipients.signers[0].tabs is None
    assert envelopes.list_recipients(ACCOUNT, summary.envelope_id, include_tabs="true").signers[0].tabs is not None


def test_envelopes_are_found_by_custom_field(envelopes):
    mine = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement(reference="recA:convention"))
    envelopes.create_envelope(ACCOUNT, envelope_definition=agreement(reference="recB:convention"))
    found = envelopes.list_status_changes(ACCOUNT, from_date="2020-01-01", custom_field="binome=recA:convention")
    assert [e.envelope_id for e in found.envelopes] == [mine.envelope_id]
    none = envelopes.list_status_changes(ACCOUNT, from_date="2020-01-01", custom_field="binome=recC:convention")
    assert not none.envelopes and none.result_set_size == "0"
    with pytest.raises(ApiException) as excinfo:
        envelopes.list_status_changes(ACCOUNT, custom_field="binome=recA:convention")  # no from_date
    assert json.loads(excinfo.value.body)["errorCode"] == "INVALID_REQUEST_PARAMETER"


def test_a_recipient_view_needs_a_sent_envelope(envelopes, emulator):
    draft = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement(status="created"))
    done = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
    emulator.control("POST", f"/envelopes/{done.envelope_id}/complete")
    for envelope_id in (draft.envelope_id, done.envelope_id):
        with pytest.raises(ApiException) as excinfo:
            envelopes.create_recipient_view(ACCOUNT, envelope_id, recipient_view_request=RecipientViewRequest(
                return_url="http://127.0.0.1:9/", authentication_method="none", email="lea@exemple.fr",
                user_name="Léa Martin", client_user_id="recVolunteer00001"))
        assert json.loads(excinfo.value.body)["errorCode"] == "ENVELOPE_INVALID_STATUS"


def test_decline_from_the_control_endpoint(envelopes, connect, emulator):
    summary = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement(
        role="Structure", template="charte-structure", email="contact@college.fr"))
    emulator.control("POST", f"/envelopes/{summary.envelope_id}/decline")
    events = connect.wait_for(3)
    assert sorted(e.json()["event"] for e in events) == ["envelope-declined", "envelope-sent", "recipient-declined"]
    assert envelopes.get_envelope(ACCOUNT, summary.envelope_id).status == "declined"
    listed = emulator.control("GET", "/envelopes")["envelopes"]
    assert [e["status"] for e in listed] == ["declined"]
    response = requests.post(f"{emulator.url}/_emulator/envelopes/{summary.envelope_id}/complete", timeout=5)
    assert response.status_code == 409  # a declined envelope cannot be signed any more


def test_draft_envelope_sends_no_event(envelopes, connect, emulator):
    summary = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement(status="created"))
    assert summary.status == "created"
    assert emulator.control("POST", "/deliveries/wait", json={"timeout": 5})["idle"]
    assert connect.received == []


def test_connect_retries_until_acknowledged(envelopes, emulator):
    with Receiver(statuses=[500, 502]) as receiver:
        emulator.control("POST", "/config", json={"docusign_connect_url": receiver.url})
        envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
        received = receiver.wait_for(3)
    assert [r.json()["retryCount"] for r in received] == [0, 1, 2]
    assert all(hmac.compare_digest(r.headers["X-Docusign-Signature-1"], signature_of(r.body)) for r in received)


@pytest.mark.parametrize("definition, code", [
    (agreement(template="inconnu"), "TEMPLATE_ID_INVALID"),
    (agreement(role="Élève"), "INVALID_REQUEST_PARAMETER"),
    (agreement(email="pas-une-adresse"), "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"),
])
def test_errors_in_docusigns_shape(envelopes, definition, code):
    with pytest.raises(ApiException) as excinfo:
        envelopes.create_envelope(ACCOUNT, envelope_definition=definition)
    assert excinfo.value.status == 400
    body = json.loads(excinfo.value.body)
    assert body["errorCode"] == code and body["message"]


def test_unknown_envelope_and_wrong_recipient(envelopes):
    with pytest.raises(ApiException) as excinfo:
        envelopes.get_envelope(ACCOUNT, "00000000-0000-0000-0000-000000000000")
    assert json.loads(excinfo.value.body)["errorCode"] == "ENVELOPE_DOES_NOT_EXIST"
    summary = envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
    with pytest.raises(ApiException) as excinfo:
        envelopes.create_recipient_view(ACCOUNT, summary.envelope_id, recipient_view_request=RecipientViewRequest(
            return_url="http://127.0.0.1:9/", authentication_method="none", email="autre@exemple.fr",
            user_name="Léa Martin", client_user_id="recVolunteer00001"))
    assert json.loads(excinfo.value.body)["errorCode"] == "UNKNOWN_ENVELOPE_RECIPIENT"


def test_missing_token_is_401_and_faults_apply(emulator, envelopes):
    response = requests.post(f"{emulator.url}/docusign/restapi/v2.1/accounts/{ACCOUNT}/envelopes", json={}, timeout=5)
    assert response.status_code == 401 and response.json()["errorCode"] == "AUTHORIZATION_INVALID_TOKEN"
    emulator.fault(service="docusign", status=429)
    with pytest.raises(ApiException) as excinfo:
        envelopes.create_envelope(ACCOUNT, envelope_definition=agreement())
    assert excinfo.value.status == 429
    assert json.loads(excinfo.value.body)["errorCode"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
