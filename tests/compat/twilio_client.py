"""An unmodified twilio-python against twiml-edge: the SipDomain resource and webhook signatures.

Run by tests/all/twilio_compat.rs as `python -I` with BASE_URL, ACCOUNT_SID, AUTH_TOKEN and
FUNCTION_URL set. Every check raises on failure (no bare `assert`, which `-O` would drop), and
the last line printed says all of them passed: the Rust side requires it.
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request

from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client


def check(condition, what):
    """Raises with `what` unless `condition` holds."""
    if not condition:
        raise RuntimeError(f"check failed: {what}")


def expect_refused(call, status, code, what):
    """Runs `call`, which the API must refuse with `status` and Twilio error `code`."""
    try:
        call()
    except TwilioRestException as e:
        check(e.status == status and e.code == code, f"{what}: got {e.status} {e.code} {e.msg}")
        return e
    raise RuntimeError(f"check failed: {what} was accepted")


base, sid, token = os.environ["BASE_URL"], os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"]
function_url = os.environ["FUNCTION_URL"]
client = Client(sid, token)
client.api.base_url = base  # the only change: where the API is

domains = client.api.v2010.accounts(sid).sip.domains
created = domains.create(
    domain_name="compat.sip.twilio.com",
    friendly_name="Compat",
    voice_url=function_url,
    voice_method="POST",
    voice_status_callback_url=function_url,
    sip_registration=True,
)
check(created.sid.startswith("SD") and len(created.sid) == 34, f"domain sid {created.sid}")
check(created.account_sid == sid, f"account_sid {created.account_sid}")
check(created.domain_name == "compat.sip.twilio.com", f"domain_name {created.domain_name}")
check(created.voice_url == function_url, f"voice_url {created.voice_url}")
check(created.voice_status_callback_url == function_url, "voice_status_callback_url")
check(created.sip_registration is True, f"sip_registration {created.sip_registration}")
check(created.date_created.year >= 2024, f"date_created {created.date_created} (RFC 2822)")

fetched = domains(created.sid).fetch()
check(fetched.friendly_name == "Compat", f"fetched friendly_name {fetched.friendly_name}")

updated = domains(created.sid).update(voice_method="GET", friendly_name="Compat 2")
check(updated.voice_method == "GET", f"updated voice_method {updated.voice_method}")
check(updated.friendly_name == "Compat 2", f"updated friendly_name {updated.friendly_name}")

for name in ("p1.sip.twilio.com", "p2.sip.twilio.com", "p3.sip.twilio.com"):
    domains.create(domain_name=name)
listed = [d.domain_name for d in domains.list(page_size=2)]  # follows next_page_uri
check(
    listed == ["compat.sip.twilio.com", "p1.sip.twilio.com", "p2.sip.twilio.com", "p3.sip.twilio.com"],
    f"listed across pages {listed}",
)

duplicate = expect_refused(
    lambda: domains.create(domain_name="compat.sip.twilio.com"), 409, 20409, "a duplicate domain"
)
check("compat.sip.twilio.com" in duplicate.msg, f"duplicate message {duplicate.msg}")


# Webhooks signed by twilio-python's own validator run the function; each altered or wrongly
# signed copy is refused with 403.
validator = RequestValidator(token)
stranger = RequestValidator("0" * 32)
params = {"From": "sip:+14155550100@compat.sip.twilio.com", "To": "sip:+15125551212@compat.sip.twilio.com"}
PSTN_DIAL = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+14155550100">'
    "<Number>+15125551212</Number></Dial></Response>"
)


def send(url, signature, data=None, content_type=None, method=None):
    """Sends one request and returns (status, body), error statuses included."""
    headers = {"X-Twilio-Signature": signature}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def expect_runs(what, status, body, expected=PSTN_DIAL):
    check(status == 200 and body == expected, f"{what}: {status} {body}")


def expect_forbidden(what, status, body):
    check(status == 403, f"{what} was not refused: {status} {body}")
    check(json.loads(body)["code"] == "forbidden", f"{what}: {body}")


# POST with a form body: the URL and every parameter are signed.
form = urllib.parse.urlencode(params).encode()
FORM = "application/x-www-form-urlencoded"
signature = validator.compute_signature(function_url, params)
expect_runs("signed form POST", *send(function_url, signature, form, FORM))
tampered = urllib.parse.urlencode({**params, "To": "sip:+19005550100@compat.sip.twilio.com"})
expect_forbidden("a form POST with an altered To", *send(function_url, signature, tampered.encode(), FORM))
expect_forbidden(
    "a form POST signed with another token",
    *send(function_url, stranger.compute_signature(function_url, params), form, FORM),
)

# GET: the parameters are in the URL, which is all that is signed.
get_url = f"{function_url}?{urllib.parse.urlencode(params)}"
expect_runs("signed GET", *send(get_url, validator.compute_signature(get_url, {})))
expect_forbidden(
    "a GET with an altered query",
    *send(get_url.replace("15125551212", "19005550100"), validator.compute_signature(get_url, {})),
)
expect_forbidden("a GET signed with another token", *send(get_url, stranger.compute_signature(get_url, {})))

# JSON: the body's SHA-256 is the URL's bodySHA256, and the URL is signed.
body = json.dumps(params)
json_url = f"{function_url}?bodySHA256={validator.compute_hash(body)}"
json_signature = validator.compute_signature(json_url, {})
check(validator.validate(json_url, body, json_signature), "twilio-python validates its own JSON signature")
expect_runs("signed JSON POST", *send(json_url, json_signature, body.encode(), "application/json"))
expect_forbidden(
    "a JSON POST whose body does not match bodySHA256",
    *send(json_url, json_signature, body.replace("15125551212", "19005550100").encode(), "application/json"),
)
expect_forbidden(
    "a JSON POST signed with another token",
    *send(json_url, stranger.compute_signature(json_url, {}), body.encode(), "application/json"),
)

# A status callback for the domain reaches its voice_status_callback_url; the engine ignores
# what it answers, so the answer is 204.
status_url = f"{base}/voice/domains/{created.sid}/status"
status_params = {**params, "CallSid": "CA" + "1" * 32, "CallStatus": "completed", "SipDomain": "compat.sip.twilio.com"}
status_form = urllib.parse.urlencode(status_params).encode()
status_signature = validator.compute_signature(status_url, status_params)
status, answer = send(status_url, status_signature, status_form, FORM)
check(status == 204 and answer == "", f"signed status callback: {status} {answer}")
altered = urllib.parse.urlencode({**status_params, "CallStatus": "failed"}).encode()
expect_forbidden("a status callback with an altered CallStatus", *send(status_url, status_signature, altered, FORM))
expect_forbidden(
    "a status callback signed with another token",
    *send(status_url, stranger.compute_signature(status_url, status_params), status_form, FORM),
)

check(domains(created.sid).delete() is True, "delete")
expect_refused(lambda: domains(created.sid).fetch(), 404, 20404, "fetching a deleted domain")
print("twilio_client.py: all checks passed")
