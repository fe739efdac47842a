"""The TwiML documents twilio-python builds, for the guest SDK to match byte for byte.

Run by tests/all/sdk_documents.rs as `python -I tests/compat/twiml_documents.py`, which builds
the same names with the SDK. Prints one line of JSON, `{name: VoiceResponse.to_xml(), ...}`,
then a last line saying all checks passed: the Rust side requires it. Checks raise (no bare
`assert`, which `-O` would drop).

Each document is built the way a twilio-python user writes it: the verb and noun methods, their
keyword arguments, and `**kwargs` for attributes the library has no parameter for.
"""

import json
import urllib.parse

from twilio.twiml.voice_response import VoiceResponse

DOCUMENTS = {}


def document(name):
    """Registers the decorated function's `VoiceResponse` under `name`, which must be new."""

    def register(build):
        if name in DOCUMENTS:
            raise RuntimeError(f"two documents are named {name!r}")
        response = VoiceResponse()
        build(response)
        DOCUMENTS[name] = response.to_xml()
        return build

    return register


# The response itself.


@document("response-empty")
def _(response):
    pass


@document("hangup-leave-sms")
def _(response):
    response.hangup()
    response.leave()
    response.sms("twilio sms", to="+11234567890", from_="+10987654321")


@document("echo")
def _(response):
    response.echo()


@document("say-then-hangup")
def _(response):
    response.say("Sorry, we could not route your call.")
    response.hangup()


# Play, Record, Redirect, Hangup, Leave, Reject, Sms, Pause.


@document("play-empty")
def _(response):
    response.play()


@document("play-url")
def _(response):
    response.play("http://hellomonkey.mp3")


@document("play-loop")
def _(response):
    response.play("http://hellomonkey.mp3", loop=3)


@document("play-digits")
def _(response):
    response.play(digits="w123")


@document("record-empty")
def _(response):
    response.record()


@document("record-action-method")
def _(response):
    response.record(action="example.com", method="GET")


@document("record-timeout-finish-max")
def _(response):
    response.record(timeout=4, finish_on_key="#", max_length=30)


@document("record-transcribe-callback")
def _(response):
    response.record(transcribe_callback="example.com")


@document("redirect-empty")
def _(response):
    response.redirect("")


@document("redirect-method")
def _(response):
    response.redirect("example.com", method="POST")


@document("redirect-escaped-url")
def _(response):
    response.redirect("example.com?id=34&action=hey", method="POST")


@document("hangup")
def _(response):
    response.hangup()


@document("leave")
def _(response):
    response.leave()


@document("reject-empty")
def _(response):
    response.reject()


@document("reject-busy")
def _(response):
    response.reject(reason="busy")


@document("sms-empty")
def _(response):
    response.sms("")


@document("sms-body")
def _(response):
    response.sms("Hello, World")


@document("sms-to-from-status-callback")
def _(response):
    response.sms(
        "Hello, World",
        to="1231231234",
        from_="3453453456",
        status_callback="example.com?id=34&action=hey",
    )


@document("sms-action-method")
def _(response):
    response.sms("Hello", method="POST", action="example.com?id=34&action=hey")


@document("pause-length")
def _(response):
    response.pause(length=2)


# Gather, Enqueue, Pay.


@document("gather-empty")
def _(response):
    response.gather()


@document("gather-say-play-pause")
def _(response):
    gather = response.gather()
    gather.say("Hey")
    gather.play("hey.mp3")
    gather.pause()


@document("gather-attributes")
def _(response):
    response.gather(
        input="dtmf speech",
        action="/completed",
        num_digits=4,
        barge_in=False,
        speech_timeout="auto",
        hints="this is a phrase I expect to hear, department",
    )


@document("enqueue-attributes")
def _(response):
    response.enqueue(
        "TestEnqueueAttribute",
        action="act",
        method="GET",
        wait_url="wait",
        wait_url_method="POST",
    )


@document("enqueue-task")
def _(response):
    response.enqueue(workflow_sid="123123123").task('{"account_sid": "AC123123123"}')


@document("pay-prompt-parameter")
def _(response):
    pay = response.pay(
        charge_amount="10.00",
        valid_card_types="visa amex",
        security_code=True,
        payment_method="credit-card",
    )
    prompt = pay.prompt(
        for_="payment-card-number",
        error_type="timeout invalid-card-number",
        attempt="1 2",
    )
    prompt.say("Please enter your card number")
    pay.parameter(name="order", value="42")


# Say and its SSML.


@document("say-empty")
def _(response):
    response.say()


@document("say-text")
def _(response):
    response.say("Hello World")


@document("say-unicode")
def _(response):
    response.say("n\u00e9cessaire et d'autres")


@document("say-loop")
def _(response):
    response.say("Hello Monkey", loop=3)


@document("say-language")
def _(response):
    response.say("Hello Monkey", language="en-gb")


@document("say-loop-voice")
def _(response):
    response.say("Hello Monkey", loop=3, voice="woman")


@document("say-language-loop-voice")
def _(response):
    response.say("Hello Monkey", loop=3, voice="man", language="fr")


@document("gather-say")
def _(response):
    response.gather().say("Hey")


@document("ssml-every-element")
def _(response):
    say = response.say()
    say.break_(strength="x-weak", time="100ms")
    say.emphasis("Words to emphasize", level="moderate")
    say.p("Words to speak")
    say.append("aaaaaa")
    say.phoneme("Words to speak", alphabet="x-sampa", ph="pɪˈkɑːn")
    say.append("bbbbbbb")
    say.prosody("Words to speak", pitch="-10%", rate="85%", volume="-6dB")
    say.s("Words to speak")
    say.say_as("Words to speak", interpret_as="spell-out")
    say.sub("Words to be substituted", alias="alias")
    say.w("Words to speak")


@document("ssml-polly-lang-say-as-w")
def _(response):
    say = response.say("Hello", voice="Polly.Joanna")
    say.lang("Bonjour", xml_lang="fr-FR")
    say.say_as("12/25", interpret_as="date", format="md")
    say.w("read", role="amazon:VBD")


@document("ssml-nested-prosody")
def _(response):
    prosody = response.say().prosody("Slow ", rate="x-slow")
    prosody.emphasis("and loud").break_()
    prosody.append(" down")


# Dial and its nouns.


@document("dial-text")
def _(response):
    response.dial("1231231234")


@document("dial-sim")
def _(response):
    response.dial().sim("123123123")


@document("dial-number")
def _(response):
    response.dial().number("1231231234")


@document("dial-number-status-callback")
def _(response):
    response.dial().number(
        "1231231234",
        status_callback="http://example.com",
        status_callback_event="initiated completed",
    )


@document("dial-conference")
def _(response):
    response.dial().conference("My Room")


@document("dial-conference-attributes")
def _(response):
    response.dial().conference(
        "TestConferenceAttributes",
        beep=False,
        wait_url="",
        start_conference_on_enter=True,
        end_conference_on_exit=True,
    )


@document("dial-queue")
def _(response):
    response.dial().queue("The Cute Queue")


@document("dial-queue-attributes")
def _(response):
    response.dial().queue("TestQueueAttribute", url="", method="GET")


@document("dial-client-empty")
def _(response):
    response.dial().client()


@document("dial-client")
def _(response):
    response.dial().client("alice")


@document("dial-client-identity-parameter")
def _(response):
    client = response.dial().client()
    client.identity("alice")
    client.parameter(name="FirstName", value="Alice")


@document("dial-application")
def _(response):
    application = response.dial().application(customer_id="customer-1", copy_parent_to=True)
    application.application_sid("AP123")
    application.parameter(name="Account", value="42")


@document("dial-whatsapp")
def _(response):
    response.dial().whats_app("+15551234567")


# Connect.


@document("connect-room")
def _(response):
    response.connect().room("DailyStandup", participant_identity="alice")


@document("connect-conversation-relay")
def _(response):
    relay = response.connect(action="/after").conversation_relay(
        url="wss://relay.example.com",
        welcome_greeting="Hi! Ask me anything & I'll answer.",
        dtmf_detection=True,
        interruptible="speech",
    )
    relay.language(code="sv-SE", tts_provider="ElevenLabs", voice="UaYTS0wayjmO9KD1LR4R")
    relay.parameter(name="customer", value="42")


@document("connect-virtual-agent")
def _(response):
    agent = response.connect().virtual_agent(
        connector_name="project",
        status_callback="https://example.com",
        sentiment_analysis=True,
    )
    agent.config(name="language", value="en-us")
    agent.parameter(name="customer", value="42")


@document("connect-stream-conversation")
def _(response):
    connect = response.connect()
    connect.stream(url="wss://example.com/media")
    connect.conversation(service_instance_sid="IS123", status_callback_event="call-answered")


# SIP: Dial's Sip noun and Refer.


@document("dial-sip")
def _(response):
    response.dial().sip("sip:foo@example.com")


@document("dial-sip-credentials")
def _(response):
    response.dial().sip("sip:foo@example.com", username="foo", password="bar")


@document("dial-sip-uri-headers")
def _(response):
    headers = urllib.parse.urlencode(
        {"x-customname": "Madhu,Mathiyalagan;Title=Manager", "x-myotherheader": "bar"},
        quote_via=urllib.parse.quote,
        safe="",
    )
    response.dial().sip(f"sip:jack@example.com?{headers}")


@document("dial-sip-status-callback-codecs")
def _(response):
    # twilio-python has no parameter for `codecs` and `sessionTimeout`: its `**kwargs` write them.
    response.dial().sip(
        "sip:alice@example.com",
        status_callback="https://status.example.com/sip",
        status_callback_method="POST",
        status_callback_event="initiated ringing answered completed",
        codecs="OPUS,PCMU",
        session_timeout=900,
    )


@document("dial-sip-headers-uris")
def _(response):
    sip = response.dial().sip()
    sip.headers().header(name="X-Customer", value="42")
    sip.uri("sip:a@pbx1.example.com", priority=1)
    sip.uri("sip:a@pbx2.example.com", priority=2, weight=10)


@document("refer-sip")
def _(response):
    response.refer(action="/refer-done").sip("sip:alice@example.com")


# Start and Stop.


@document("start-stream")
def _(response):
    stream = response.start().stream(
        name="live", url="wss://example.com/audio", track="both_tracks"
    )
    stream.parameter(name="caller", value="+15551234567")


@document("start-transcription-siprec-recording")
def _(response):
    start = response.start()
    transcription = start.transcription(
        status_callback_url="https://example.com/your-callback-url",
        profanity_filter=False,
        transcription_engine="google",
    )
    transcription.config(name="model", value="telephony")
    start.siprec(connector_name="recorder", track="inbound_track")
    start.recording(track="both", channels="dual", recording_status_callback_event="completed")


@document("stop-stream-transcription")
def _(response):
    stop = response.stop()
    stop.stream(name="live")
    stop.transcription(name="t")


print(json.dumps(DOCUMENTS))
print("twiml_documents.py: all checks passed")
