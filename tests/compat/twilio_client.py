"""An unmodified twilio-python against twiml-edge: the SipDomain resource and webhook signatures.

Run by tests/twilio_compat.rs with BASE_URL, ACCOUNT_SID, AUTH_TOKEN and FUNCTION_URL set; any
failed assertion exits non-zero with its message.
"""

import os
import urllib.parse
import urllib.request

from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

base, sid, token = os.environ["BASE_URL"], os.environ["ACCOUNT_SID"], os.environ["AUTH_TOKEN"]
client = Client(sid, token)
client.api.base_url = base  # the only change: where the API is

domains = client.api.v2010.accounts(sid).sip.domains
created = domains.create(
    domain_name="compat.sip.twilio.com",
    friendly_name="Compat",
    voice_url=os.environ["FUNCTION_URL"],
    voice_method="POST",
    sip_registration=True,
)
assert created.sid.startswith("SD") and len(created.sid) == 34, created.sid
assert created.account_sid == sid
assert created.domain_name == "compat.sip.twilio.com"
assert created.voice_url == os.environ["FUNCTION_URL"]
assert created.sip_registration is True
assert created.date_created.year >= 2024, created.date_created  # parsed as RFC 2822

fetched = domains(created.sid).fetch()
assert fetched.friendly_name == "Compat"

updated = domains(created.sid).update(voice_method="GET", friendly_name="Compat 2")
assert updated.voice_method == "GET" and updated.friendly_name == "Compat 2"

for name in ("p1.sip.twilio.com", "p2.sip.twilio.com", "p3.sip.twilio.com"):
    domains.create(domain_name=name)
listed = domains.list(page_size=2)  # follows next_page_uri across pages
assert [d.domain_name for d in listed] == [
    "compat.sip.twilio.com",
    "p1.sip.twilio.com",
    "p2.sip.twilio.com",
    "p3.sip.twilio.com",
], [d.domain_name for d in listed]

try:
    domains.create(domain_name="compat.sip.twilio.com")
    raise AssertionError("a duplicate domain name was accepted")
except TwilioRestException as e:
    assert e.status == 409 and "compat.sip.twilio.com" in e.msg, (e.status, e.msg)

assert domains(created.sid).delete() is True
try:
    domains(created.sid).fetch()
    raise AssertionError("a deleted domain was fetched")
except TwilioRestException as e:
    assert e.status == 404 and e.code == 20404, (e.status, e.code)

# A webhook signed by twilio-python's own validator runs the function.
url = os.environ["FUNCTION_URL"]
params = {"From": "sip:+14155550100@compat.sip.twilio.com", "To": "sip:+15125551212@compat.sip.twilio.com"}
signature = RequestValidator(token).compute_signature(url, params)
request = urllib.request.Request(
    url,
    data=urllib.parse.urlencode(params).encode(),
    headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
)
with urllib.request.urlopen(request) as response:
    body = response.read().decode()
assert response.status == 200 and "<Number>+15125551212</Number>" in body, body
print("twilio-python works against twiml-edge")
