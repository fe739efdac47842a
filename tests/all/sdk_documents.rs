//! End-to-end: the guest SDK builds the documents twilio-python builds.
//!
//! `tests/compat/twiml_documents.py` builds named documents with twilio-python's
//! `VoiceResponse`; [`documents`] builds the same names with the SDK, and each pair must be equal
//! byte for byte. Adding a case is adding a name on both sides. `scripts/test.sh` installs
//! twilio-python in `target/python`.

use std::collections::{BTreeMap, BTreeSet};

use twiml_edge_sdk::twiml::*;

use crate::common::run_python;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_builds_what_twilio_python_builds() {
    let stdout = run_python("twiml_documents.py", &[]).await;
    let line = stdout.lines().next().unwrap_or_default();
    let python: BTreeMap<String, String> = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("twiml_documents.py printed no JSON object ({e}): {line:?}"));

    let mut sdk = BTreeMap::new();
    for (name, response) in documents() {
        let earlier = sdk.insert(name, response.to_xml());
        assert!(earlier.is_none(), "two SDK documents are named {name:?}");
    }

    let python_names: BTreeSet<&str> = python.keys().map(String::as_str).collect();
    let sdk_names: BTreeSet<&str> = sdk.keys().copied().collect();
    let only_sdk: Vec<_> = sdk_names.difference(&python_names).collect();
    let only_python: Vec<_> = python_names.difference(&sdk_names).collect();
    assert!(
        only_sdk.is_empty() && only_python.is_empty(),
        "documents only the SDK builds: {only_sdk:?}; only twilio-python builds: {only_python:?}"
    );

    let differences: Vec<String> = sdk
        .iter()
        .filter(|&(name, xml)| python[*name] != *xml)
        .map(|(name, xml)| {
            format!(
                "{name:?}:\n  sdk:           {xml}\n  twilio-python: {}",
                python[*name]
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {} documents differ:\n{}",
        differences.len(),
        sdk.len(),
        differences.join("\n")
    );
}

/// Every document, by the name `twiml_documents.py` gives it.
fn documents() -> Vec<(&'static str, VoiceResponse)> {
    [
        responses(),
        verbs(),
        gather_enqueue_and_pay(),
        say(),
        ssml(),
        dial_nouns(),
        connect(),
        sip(),
        start_and_stop(),
    ]
    .concat()
}

fn responses() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        ("response-empty", VoiceResponse::new()),
        (
            "hangup-leave-sms",
            VoiceResponse::new().hangup().leave().sms(
                Sms::new("twilio sms")
                    .to("+11234567890")
                    .from_("+10987654321"),
            ),
        ),
        ("echo", VoiceResponse::new().echo()),
        (
            "say-then-hangup",
            VoiceResponse::new()
                .say("Sorry, we could not route your call.")
                .hangup(),
        ),
    ]
}

fn verbs() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        ("play-empty", VoiceResponse::new().play("")),
        (
            "play-url",
            VoiceResponse::new().play("http://hellomonkey.mp3"),
        ),
        (
            "play-loop",
            VoiceResponse::new().play(Play::new("http://hellomonkey.mp3").loop_(3)),
        ),
        (
            "play-digits",
            VoiceResponse::new().play(Play::new("").digits("w123")),
        ),
        ("record-empty", VoiceResponse::new().record(Record::new())),
        (
            "record-action-method",
            VoiceResponse::new().record(Record::new().action("example.com").method(Method::Get)),
        ),
        (
            "record-timeout-finish-max",
            VoiceResponse::new().record(Record::new().timeout(4).finish_on_key("#").max_length(30)),
        ),
        (
            "record-transcribe-callback",
            VoiceResponse::new().record(Record::new().transcribe_callback("example.com")),
        ),
        ("redirect-empty", VoiceResponse::new().redirect("")),
        (
            "redirect-method",
            VoiceResponse::new().redirect(Redirect::new("example.com").method(Method::Post)),
        ),
        (
            "redirect-escaped-url",
            VoiceResponse::new()
                .redirect(Redirect::new("example.com?id=34&action=hey").method(Method::Post)),
        ),
        ("hangup", VoiceResponse::new().hangup()),
        ("leave", VoiceResponse::new().leave()),
        ("reject-empty", VoiceResponse::new().reject(Reject::new())),
        (
            "reject-busy",
            VoiceResponse::new().reject(Reject::new().reason(RejectReason::Busy)),
        ),
        ("sms-empty", VoiceResponse::new().sms("")),
        ("sms-body", VoiceResponse::new().sms("Hello, World")),
        (
            "sms-to-from-status-callback",
            VoiceResponse::new().sms(
                Sms::new("Hello, World")
                    .to("1231231234")
                    .from_("3453453456")
                    .status_callback("example.com?id=34&action=hey"),
            ),
        ),
        (
            "sms-action-method",
            VoiceResponse::new().sms(
                Sms::new("Hello")
                    .method(Method::Post)
                    .action("example.com?id=34&action=hey"),
            ),
        ),
        (
            "pause-length",
            VoiceResponse::new().pause(Pause::new().length(2)),
        ),
    ]
}

fn gather_enqueue_and_pay() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        ("gather-empty", VoiceResponse::new().gather(Gather::new())),
        (
            "gather-say-play-pause",
            VoiceResponse::new()
                .gather(Gather::new().say("Hey").play("hey.mp3").pause(Pause::new())),
        ),
        (
            "gather-attributes",
            VoiceResponse::new().gather(
                Gather::new()
                    .input([GatherInput::Dtmf, GatherInput::Speech])
                    .action("/completed")
                    .num_digits(4)
                    .barge_in(false)
                    .speech_timeout("auto")
                    .hints("this is a phrase I expect to hear, department"),
            ),
        ),
        (
            "enqueue-attributes",
            VoiceResponse::new().enqueue(
                Enqueue::new("TestEnqueueAttribute")
                    .action("act")
                    .method(Method::Get)
                    .wait_url("wait")
                    .wait_url_method(Method::Post),
            ),
        ),
        (
            "enqueue-task",
            VoiceResponse::new().enqueue(
                Enqueue::new("")
                    .workflow_sid("123123123")
                    .task(r#"{"account_sid": "AC123123123"}"#),
            ),
        ),
        (
            "pay-prompt-parameter",
            VoiceResponse::new().pay(
                Pay::new()
                    .charge_amount("10.00")
                    .valid_card_types([CardType::Visa, CardType::Amex])
                    .security_code(true)
                    .payment_method(PaymentMethod::CreditCard)
                    .prompt(
                        Prompt::new()
                            .for_(PromptFor::PaymentCardNumber)
                            .error_type([
                                PromptErrorType::Timeout,
                                PromptErrorType::InvalidCardNumber,
                            ])
                            .attempt([1, 2])
                            .say("Please enter your card number"),
                    )
                    .parameter(("order", "42")),
            ),
        ),
    ]
}

fn say() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        ("say-empty", VoiceResponse::new().say("")),
        ("say-text", VoiceResponse::new().say("Hello World")),
        (
            "say-unicode",
            VoiceResponse::new().say("n\u{e9}cessaire et d'autres"),
        ),
        (
            "say-loop",
            VoiceResponse::new().say(Say::new("Hello Monkey").loop_(3)),
        ),
        (
            "say-language",
            VoiceResponse::new().say(Say::new("Hello Monkey").language("en-gb")),
        ),
        (
            "say-loop-voice",
            VoiceResponse::new().say(Say::new("Hello Monkey").loop_(3).voice("woman")),
        ),
        (
            "say-language-loop-voice",
            VoiceResponse::new().say(
                Say::new("Hello Monkey")
                    .loop_(3)
                    .voice("man")
                    .language("fr"),
            ),
        ),
        (
            "gather-say",
            VoiceResponse::new().gather(Gather::new().say("Hey")),
        ),
    ]
}

fn ssml() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        (
            "ssml-every-element",
            VoiceResponse::new().say(
                Say::new("")
                    .break_(
                        SsmlBreak::new()
                            .strength(BreakStrength::XWeak)
                            .time("100ms"),
                    )
                    .emphasis(
                        SsmlEmphasis::new("Words to emphasize").level(EmphasisLevel::Moderate),
                    )
                    .p("Words to speak")
                    .text("aaaaaa")
                    .phoneme(
                        SsmlPhoneme::new("Words to speak")
                            .alphabet(PhonemeAlphabet::XSampa)
                            .ph("pɪˈkɑːn"),
                    )
                    .text("bbbbbbb")
                    .prosody(
                        SsmlProsody::new("Words to speak")
                            .pitch("-10%")
                            .rate("85%")
                            .volume("-6dB"),
                    )
                    .s("Words to speak")
                    .say_as(SsmlSayAs::new("Words to speak").interpret_as(InterpretAs::SpellOut))
                    .sub(SsmlSub::new("Words to be substituted").alias("alias"))
                    .w("Words to speak"),
            ),
        ),
        (
            "ssml-polly-lang-say-as-w",
            VoiceResponse::new().say(
                Say::new("Hello")
                    .voice("Polly.Joanna")
                    .lang(SsmlLang::new("Bonjour").xml_lang("fr-FR"))
                    .say_as(
                        SsmlSayAs::new("12/25")
                            .interpret_as(InterpretAs::Date)
                            .format(SayAsFormat::Md),
                    )
                    .w(SsmlW::new("read").role("amazon:VBD")),
            ),
        ),
        (
            "ssml-nested-prosody",
            VoiceResponse::new().say(
                Say::new("").prosody(
                    SsmlProsody::new("Slow ")
                        .rate("x-slow")
                        .emphasis(SsmlEmphasis::new("and loud").break_(SsmlBreak::new()))
                        .text(" down"),
                ),
            ),
        ),
    ]
}

fn dial(dial: Dial) -> VoiceResponse {
    VoiceResponse::new().dial(dial)
}

fn dial_nouns() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        ("dial-text", dial(Dial::new().text("1231231234"))),
        ("dial-sim", dial(Dial::new().sim("123123123"))),
        ("dial-number", dial(Dial::new().number("1231231234"))),
        (
            "dial-number-status-callback",
            dial(
                Dial::new().number(
                    Number::new("1231231234")
                        .status_callback("http://example.com")
                        .status_callback_event([CallEvent::Initiated, CallEvent::Completed]),
                ),
            ),
        ),
        ("dial-conference", dial(Dial::new().conference("My Room"))),
        (
            "dial-conference-attributes",
            dial(
                Dial::new().conference(
                    Conference::new("TestConferenceAttributes")
                        .beep(ConferenceBeep::False)
                        .wait_url("")
                        .start_conference_on_enter(true)
                        .end_conference_on_exit(true),
                ),
            ),
        ),
        ("dial-queue", dial(Dial::new().queue("The Cute Queue"))),
        (
            "dial-queue-attributes",
            dial(Dial::new().queue(Queue::new("TestQueueAttribute").url("").method(Method::Get))),
        ),
        ("dial-client-empty", dial(Dial::new().client(""))),
        ("dial-client", dial(Dial::new().client("alice"))),
        (
            "dial-client-identity-parameter",
            dial(
                Dial::new().client(
                    Client::new("")
                        .identity("alice")
                        .parameter(("FirstName", "Alice")),
                ),
            ),
        ),
        (
            "dial-application",
            dial(
                Dial::new().application(
                    Application::new("")
                        .customer_id("customer-1")
                        .copy_parent_to(true)
                        .application_sid("AP123")
                        .parameter(("Account", "42")),
                ),
            ),
        ),
        ("dial-whatsapp", dial(Dial::new().whats_app("+15551234567"))),
    ]
}

fn connect() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        (
            "connect-room",
            VoiceResponse::new().connect(
                Connect::new().room(Room::new("DailyStandup").participant_identity("alice")),
            ),
        ),
        (
            "connect-conversation-relay",
            VoiceResponse::new().connect(
                Connect::new().action("/after").conversation_relay(
                    ConversationRelay::new()
                        .url("wss://relay.example.com")
                        .welcome_greeting("Hi! Ask me anything & I'll answer.")
                        .dtmf_detection(true)
                        .interruptible("speech")
                        .language_setting(
                            Language::new()
                                .code("sv-SE")
                                .tts_provider("ElevenLabs")
                                .voice("UaYTS0wayjmO9KD1LR4R"),
                        )
                        .parameter(("customer", "42")),
                ),
            ),
        ),
        (
            "connect-virtual-agent",
            VoiceResponse::new().connect(
                Connect::new().virtual_agent(
                    VirtualAgent::new()
                        .connector_name("project")
                        .status_callback("https://example.com")
                        .sentiment_analysis(true)
                        .config(("language", "en-us"))
                        .parameter(("customer", "42")),
                ),
            ),
        ),
        (
            "connect-stream-conversation",
            VoiceResponse::new().connect(
                Connect::new()
                    .stream(Stream::new().url("wss://example.com/media"))
                    .conversation(
                        Conversation::new()
                            .service_instance_sid("IS123")
                            .status_callback_event([ConversationEvent::CallAnswered]),
                    ),
            ),
        ),
    ]
}

/// The SDK's `Sip::new` adds the `sip:` scheme and escapes header values itself; twilio-python
/// users write the URI whole.
fn sip() -> Vec<(&'static str, VoiceResponse)> {
    let dial_sip = |sip: Sip| dial(Dial::new().sip(sip));
    vec![
        ("dial-sip", dial_sip(Sip::new("sip:foo@example.com"))),
        (
            "dial-sip-credentials",
            dial_sip(Sip::new("foo@example.com").username("foo").password("bar")),
        ),
        (
            "dial-sip-uri-headers",
            dial_sip(Sip::new(
                SipUri::new("jack@example.com")
                    .header("x-customname", "Madhu,Mathiyalagan;Title=Manager")
                    .header("x-myotherheader", "bar"),
            )),
        ),
        (
            "dial-sip-status-callback-codecs",
            dial_sip(
                Sip::new("alice@example.com")
                    .status_callback("https://status.example.com/sip")
                    .status_callback_method(Method::Post)
                    .status_callback_event([
                        SipEvent::Initiated,
                        SipEvent::Ringing,
                        SipEvent::Answered,
                        SipEvent::Completed,
                    ])
                    .codecs([Codec::Opus, Codec::Pcmu])
                    .session_timeout(900),
            ),
        ),
        (
            "dial-sip-headers-uris",
            dial_sip(
                Sip::new("")
                    .headers(Headers::new().header(("X-Customer", "42")))
                    .uri(Uri::new("a@pbx1.example.com").priority(1))
                    .uri(Uri::new("a@pbx2.example.com").priority(2).weight(10)),
            ),
        ),
        (
            "refer-sip",
            VoiceResponse::new().refer(Refer::new().action("/refer-done").sip("alice@example.com")),
        ),
    ]
}

fn start_and_stop() -> Vec<(&'static str, VoiceResponse)> {
    vec![
        (
            "start-stream",
            VoiceResponse::new().start(
                Start::new().stream(
                    Stream::new()
                        .name("live")
                        .url("wss://example.com/audio")
                        .track(Track::BothTracks)
                        .parameter(("caller", "+15551234567")),
                ),
            ),
        ),
        (
            "start-transcription-siprec-recording",
            VoiceResponse::new().start(
                Start::new()
                    .transcription(
                        Transcription::new()
                            .status_callback_url("https://example.com/your-callback-url")
                            .profanity_filter(false)
                            .transcription_engine("google")
                            .config(Config::new("model", "telephony")),
                    )
                    .siprec(
                        Siprec::new()
                            .connector_name("recorder")
                            .track(Track::InboundTrack),
                    )
                    .recording(
                        Recording::new()
                            .track(RecordingTrack::Both)
                            .channels(RecordingChannels::Dual)
                            .recording_status_callback_event([RecordingEvent::Completed]),
                    ),
            ),
        ),
        (
            "stop-stream-transcription",
            VoiceResponse::new().stop(
                Stop::new()
                    .stream(Stream::new().name("live"))
                    .transcription(Transcription::new().name("t")),
            ),
        ),
    ]
}
