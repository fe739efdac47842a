//! The TwiML voice vocabulary: every verb and noun, where it may stand, its attributes and its text.
//!
//! Transcribed from the generated Twilio helper libraries (twilio-python's
//! `twilio/twiml/voice_response.py`, and twilio-node's `src/twiml/VoiceResponse.ts`, which comes
//! from the same generator and is a few releases newer), plus `codecs` and `sessionTimeout` on
//! `<Sip>` from the compatible platform (seed 003). Values are only checked where the libraries
//! fix them; voices, languages and URLs stay open strings because their lists change every month.

/// What text an element holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// No text, only child elements (whitespace is always fine).
    None,
    /// Text may be present or not.
    Optional,
    /// Non-blank text is required.
    Required,
    /// Text is required unless a child element of this name is present (`<Client><Identity>`).
    OrChild(&'static str),
    /// Text is required unless this attribute is present (`<Play digits="1">`).
    OrAttr(&'static str),
}

/// The values an attribute accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Any string (URLs, names, voices, languages).
    Any,
    /// `true` or `false`.
    Bool,
    /// A whole number, 0 or more.
    Int,
    /// `GET` or `POST`.
    Method,
    /// Exactly one of these.
    OneOf(&'static [&'static str]),
    /// One or more of these, separated by spaces.
    SpaceSet(&'static [&'static str]),
    /// One or more of these, separated by commas.
    CommaSet(&'static [&'static str]),
}

#[derive(Debug)]
pub(crate) struct Attr {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) struct Element {
    pub(crate) name: &'static str,
    pub(crate) attrs: &'static [Attr],
    pub(crate) children: &'static [&'static Element],
    pub(crate) text: Text,
}

impl Element {
    pub(crate) fn child(&self, name: &str) -> Option<&'static Element> {
        self.children.iter().copied().find(|c| c.name == name)
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

const fn a(name: &'static str, kind: Kind) -> Attr {
    Attr { name, kind }
}

const fn el(
    name: &'static str,
    attrs: &'static [Attr],
    children: &'static [&'static Element],
    text: Text,
) -> Element {
    Element {
        name,
        attrs,
        children,
        text,
    }
}

use Kind::{Any, Bool, CommaSet, Int, Method, OneOf, SpaceSet};

/// Call progress events of a dialled party (`<Number>`, `<Sip>`, `<Client>`, ...).
pub const CALL_EVENTS: &[&str] = &["initiated", "ringing", "answered", "completed"];
/// Codecs `<Sip codecs>` may offer (seed 003: comma-separated, upper case).
pub(crate) const SIP_CODECS: &[&str] = &["PCMU", "PCMA", "G722", "G729", "OPUS"];
const RECORDING_EVENTS: &[&str] = &["in-progress", "completed", "absent"];
const TRIM: &[&str] = &["trim-silence", "do-not-trim"];
const TRACKS: &[&str] = &["inbound_track", "outbound_track", "both_tracks"];
const CARD_TYPES: &[&str] = &[
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "discover",
    "optima",
    "jcb",
    "diners-club",
    "enroute",
];
// `true`/`false` are kept as the legacy spellings of record-from-answer/do-not-record.
const DIAL_RECORD: &[&str] = &[
    "do-not-record",
    "record-from-answer",
    "record-from-ringing",
    "record-from-answer-dual",
    "record-from-ringing-dual",
    "true",
    "false",
];
const RING_TONES: &[&str] = &[
    "at", "au", "bg", "br", "be", "ch", "cl", "cn", "cz", "de", "dk", "ee", "es", "fi", "fr", "gr",
    "hu", "il", "in", "it", "lt", "jp", "mx", "my", "nl", "no", "nz", "ph", "pl", "pt", "ru", "se",
    "sg", "th", "uk", "us", "us-old", "tw", "ve", "za",
];

const NAME_VALUE: &[Attr] = &[a("name", Any), a("value", Any)];
const ACTION_METHOD: &[Attr] = &[a("action", Any), a("method", Method)];
const STREAM_ATTRS: &[Attr] = &[
    a("connectorName", Any),
    a("name", Any),
    a("statusCallback", Any),
    a("statusCallbackMethod", Method),
    a("track", OneOf(TRACKS)),
    a("url", Any),
];
const SIPREC_ATTRS: &[Attr] = &[
    a("connectorName", Any),
    a("name", Any),
    a("statusCallback", Any),
    a("statusCallbackMethod", Method),
    a("track", OneOf(TRACKS)),
];
const TRANSCRIPTION_ATTRS: &[Attr] = &[
    a("enableAutomaticPunctuation", Bool),
    a("hints", Any),
    a("inboundTrackLabel", Any),
    a("intelligenceService", Any),
    a("languageCode", Any),
    a("name", Any),
    a("outboundTrackLabel", Any),
    a("partialResults", Bool),
    a("profanityFilter", Bool),
    a("speechModel", Any),
    a("statusCallbackMethod", Method),
    a("statusCallbackUrl", Any),
    a("track", OneOf(TRACKS)),
    a("transcriptionEngine", Any),
];
const SAY_ATTRS: &[Attr] = &[a("language", Any), a("loop", Int), a("voice", Any)];
const PLAY_ATTRS: &[Attr] = &[a("digits", Any), a("loop", Int)];
const PAUSE_ATTRS: &[Attr] = &[a("length", Int)];
/// Attributes of a dialled party that reports call progress.
const PARTY_ATTRS: &[Attr] = &[
    a("method", Method),
    a("statusCallback", Any),
    a("statusCallbackEvent", SpaceSet(CALL_EVENTS)),
    a("statusCallbackMethod", Method),
    a("url", Any),
];

// ---- the root and the verbs ----

pub(crate) static RESPONSE: Element = el(
    "Response",
    &[],
    &[
        &CONNECT, &DIAL, &ECHO, &ENQUEUE, &GATHER, &HANGUP, &LEAVE, &PAUSE, &PAY, &PLAY, &PROMPT,
        &QUEUE, &RECORD, &REDIRECT, &REFER, &REJECT, &SAY, &SMS, &START, &STOP,
    ],
    Text::None,
);
pub(crate) static CONNECT: Element = el(
    "Connect",
    ACTION_METHOD,
    &[
        &AI_SESSION,
        &ASSISTANT,
        &AUTOPILOT,
        &CONVERSATION,
        &CONVERSATION_RELAY,
        &CONVERSATION_RELAY_SESSION,
        &ROOM,
        &STREAM,
        &VIRTUAL_AGENT,
    ],
    Text::None,
);
pub(crate) static DIAL: Element = el(
    "Dial",
    &[
        a("action", Any),
        a("answerOnBridge", Bool),
        a("callerId", Any), // checked against the nouns once the <Dial> closes
        a("events", OneOf(&["call-progress-event"])),
        a("hangupOnStar", Bool),
        a("method", Method),
        a("record", OneOf(DIAL_RECORD)),
        a("recordingConfigurationId", Any),
        a("recordingStatusCallback", Any),
        a("recordingStatusCallbackEvent", SpaceSet(RECORDING_EVENTS)),
        a("recordingStatusCallbackMethod", Method),
        a("recordingTrack", OneOf(&["both", "inbound", "outbound"])),
        a("referMethod", Method),
        a("referUrl", Any),
        a("ringTone", OneOf(RING_TONES)),
        a("sequential", Bool),
        a("timeLimit", Int),
        a("timeout", Int),
        a("trim", OneOf(TRIM)),
    ],
    &[
        &APPLICATION,
        &CLIENT,
        &CONFERENCE,
        &NUMBER,
        &QUEUE,
        &SIM,
        &SIP,
        &WHATSAPP,
    ],
    Text::Optional,
);
pub(crate) static ECHO: Element = el("Echo", &[], &[], Text::None);
pub(crate) static ENQUEUE: Element = el(
    "Enqueue",
    &[
        a("action", Any),
        a("maxQueueSize", Int),
        a("method", Method),
        a("waitUrl", Any),
        a("waitUrlMethod", Method),
        a("workflowSid", Any),
    ],
    &[&TASK],
    Text::Optional,
);
pub(crate) static GATHER: Element = el(
    "Gather",
    &[
        a("action", Any),
        a("actionOnEmptyResult", Bool),
        a("bargeIn", Bool),
        a("debug", Bool),
        a("enhanced", Bool),
        a("finishOnKey", Any),
        a("hints", Any),
        a("input", SpaceSet(&["dtmf", "speech"])),
        a("language", Any),
        a("maxSpeechTime", Int),
        a("method", Method),
        a("numDigits", Int),
        a("partialResultCallback", Any),
        a("partialResultCallbackMethod", Method),
        a("profanityFilter", Bool),
        a("speechModel", Any),
        a("speechTimeout", Any),
        a("timeout", Int),
    ],
    &[&PAUSE, &PLAY, &SAY],
    Text::None,
);
pub(crate) static HANGUP: Element = el("Hangup", &[], &[&PARAMETER], Text::None);
pub(crate) static LEAVE: Element = el("Leave", &[], &[], Text::None);
pub(crate) static PAUSE: Element = el("Pause", PAUSE_ATTRS, &[], Text::None);
pub(crate) static PAY: Element = el(
    "Pay",
    &[
        a("action", Any),
        a(
            "bankAccountType",
            OneOf(&[
                "consumer-checking",
                "consumer-savings",
                "commercial-checking",
                "commercial-savings",
            ]),
        ),
        a("chargeAmount", Any),
        a("currency", Any),
        a("description", Any),
        a("input", OneOf(&["dtmf"])),
        a("language", Any),
        a("maxAttempts", Int),
        a("minPostalCodeLength", Int),
        a("paymentConnector", Any),
        a("paymentMethod", OneOf(&["ach-debit", "credit-card"])),
        a("postalCode", Any),
        a("securityCode", Bool),
        a("statusCallback", Any),
        a("statusCallbackMethod", Method),
        a("timeout", Int),
        a(
            "tokenType",
            OneOf(&["one-time", "reusable", "payment-method"]),
        ),
        a("validCardTypes", SpaceSet(CARD_TYPES)),
    ],
    &[&PARAMETER, &PROMPT],
    Text::None,
);
pub(crate) static PLAY: Element = el("Play", PLAY_ATTRS, &[], Text::OrAttr("digits"));
pub(crate) static PROMPT: Element = el(
    "Prompt",
    &[
        a("attempt", Any),
        a("cardType", SpaceSet(CARD_TYPES)),
        a(
            "errorType",
            SpaceSet(&[
                "timeout",
                "invalid-card-number",
                "invalid-card-type",
                "invalid-date",
                "invalid-security-code",
                "internal-error",
                "input-matching-failed",
            ]),
        ),
        a(
            "for",
            OneOf(&[
                "payment-card-number",
                "expiration-date",
                "security-code",
                "postal-code",
                "payment-processing",
                "bank-account-number",
                "bank-routing-number",
            ]),
        ),
        a("requireMatchingInputs", Bool),
    ],
    &[&PAUSE, &PLAY, &SAY],
    Text::None,
);
pub(crate) static RECORD: Element = el(
    "Record",
    &[
        a("action", Any),
        a("finishOnKey", Any),
        a("maxLength", Int),
        a("method", Method),
        a("playBeep", Bool),
        a("recordingConfigurationId", Any),
        a("recordingStatusCallback", Any),
        a("recordingStatusCallbackEvent", SpaceSet(RECORDING_EVENTS)),
        a("recordingStatusCallbackMethod", Method),
        a("timeout", Int),
        a("transcribe", Bool),
        a("transcribeCallback", Any),
        a("trim", OneOf(TRIM)),
    ],
    &[],
    Text::None,
);
pub(crate) static REDIRECT: Element = el("Redirect", &[a("method", Method)], &[], Text::Required);
pub(crate) static REFER: Element = el("Refer", ACTION_METHOD, &[&REFER_SIP], Text::None);
pub(crate) static REJECT: Element = el(
    "Reject",
    &[a("reason", OneOf(&["rejected", "busy"]))],
    &[&PARAMETER],
    Text::None,
);
pub(crate) static SAY: Element = el("Say", SAY_ATTRS, &SSML_ALL, Text::Optional);
pub(crate) static SMS: Element = el(
    "Sms",
    &[
        a("action", Any),
        a("from", Any),
        a("method", Method),
        a("statusCallback", Any),
        a("to", Any),
    ],
    &[],
    Text::Required,
);
pub(crate) static START: Element = el(
    "Start",
    ACTION_METHOD,
    &[&RECORDING, &SIPREC, &STREAM, &TRANSCRIPTION],
    Text::None,
);
pub(crate) static STOP: Element = el("Stop", &[], &[&SIPREC, &STREAM, &TRANSCRIPTION], Text::None);

// ---- nouns of <Dial> ----

pub(crate) static APPLICATION: Element = el(
    "Application",
    &[
        a("copyParentTo", Bool),
        a("customerId", Any),
        a("method", Method),
        a("statusCallback", Any),
        a("statusCallbackEvent", SpaceSet(CALL_EVENTS)),
        a("statusCallbackMethod", Method),
        a("url", Any),
    ],
    &[&APPLICATION_SID, &PARAMETER],
    Text::OrChild("ApplicationSid"),
);
pub(crate) static APPLICATION_SID: Element = el("ApplicationSid", &[], &[], Text::Required);
pub(crate) static CLIENT: Element = el(
    "Client",
    PARTY_ATTRS,
    &[&IDENTITY, &PARAMETER],
    Text::OrChild("Identity"),
);
pub(crate) static IDENTITY: Element = el("Identity", &[], &[], Text::Required);
pub(crate) static CONFERENCE: Element = el(
    "Conference",
    &[
        a("beep", OneOf(&["true", "false", "onEnter", "onExit"])),
        a("coach", Any),
        a("endConferenceOnExit", Bool),
        a("eventCallbackUrl", Any),
        a(
            "jitterBufferSize",
            OneOf(&["large", "medium", "small", "off"]),
        ),
        a("maxParticipants", Int),
        a("muted", Bool),
        a("participantLabel", Any),
        a("record", OneOf(&["do-not-record", "record-from-start"])),
        a("recordingConfigurationId", Any),
        a("recordingStatusCallback", Any),
        a("recordingStatusCallbackEvent", SpaceSet(RECORDING_EVENTS)),
        a("recordingStatusCallbackMethod", Method),
        a(
            "region",
            OneOf(&["us1", "us2", "ie1", "sg1", "br1", "au1", "jp1", "de1"]),
        ),
        a("startConferenceOnEnter", Bool),
        a("statusCallback", Any),
        a(
            "statusCallbackEvent",
            SpaceSet(&[
                "start",
                "end",
                "join",
                "leave",
                "mute",
                "hold",
                "modify",
                "speaker",
                "announcement",
            ]),
        ),
        a("statusCallbackMethod", Method),
        a("trim", OneOf(TRIM)),
        a("waitMethod", Method),
        a("waitUrl", Any),
    ],
    &[],
    Text::Required,
);
pub(crate) static NUMBER: Element = el(
    "Number",
    &[
        a("amdStatusCallback", Any),
        a("amdStatusCallbackMethod", Method),
        a("byoc", Any),
        a("machineDetection", Any),
        a("machineDetectionSilenceTimeout", Int),
        a("machineDetectionSpeechEndThreshold", Int),
        a("machineDetectionSpeechThreshold", Int),
        a("machineDetectionTimeout", Int),
        a("method", Method),
        a("sendDigits", Any),
        a("statusCallback", Any),
        a("statusCallbackEvent", SpaceSet(CALL_EVENTS)),
        a("statusCallbackMethod", Method),
        a("url", Any),
    ],
    &[],
    Text::Required,
);
pub(crate) static QUEUE: Element = el(
    "Queue",
    &[
        a("method", Method),
        a("postWorkActivitySid", Any),
        a("reservationSid", Any),
        a("url", Any),
    ],
    &[],
    Text::Required,
);
pub(crate) static SIM: Element = el("Sim", &[], &[], Text::Required);
pub(crate) static SIP: Element = el(
    "Sip",
    &[
        a("amdStatusCallback", Any),
        a("amdStatusCallbackMethod", Method),
        a("codecs", CommaSet(SIP_CODECS)),
        a("machineDetection", Any),
        a("machineDetectionSilenceTimeout", Int),
        a("machineDetectionSpeechEndThreshold", Int),
        a("machineDetectionSpeechThreshold", Int),
        a("machineDetectionTimeout", Int),
        a("method", Method),
        a("password", Any),
        a("sessionTimeout", Int),
        a("statusCallback", Any),
        a("statusCallbackEvent", SpaceSet(CALL_EVENTS)),
        a("statusCallbackMethod", Method),
        a("url", Any),
        a("username", Any),
    ],
    &[&HEADERS, &SIP_URI],
    Text::OrChild("Uri"),
);
pub(crate) static HEADERS: Element = el("Headers", &[], &[&HEADER], Text::None);
pub(crate) static HEADER: Element = el("Header", NAME_VALUE, &[], Text::None);
pub(crate) static SIP_URI: Element = el(
    "Uri",
    &[
        a("password", Any),
        a("priority", Any),
        a("username", Any),
        a("weight", Any),
    ],
    &[],
    Text::Required,
);
pub(crate) static WHATSAPP: Element = el("WhatsApp", PARTY_ATTRS, &[], Text::Required);
/// `<Sip>` inside `<Refer>`: a transfer target, no attributes.
pub(crate) static REFER_SIP: Element = el("Sip", &[], &[], Text::Required);

// ---- nouns of the other verbs ----

pub(crate) static TASK: Element = el(
    "Task",
    &[a("priority", Int), a("timeout", Int)],
    &[],
    Text::Required,
);
pub(crate) static PARAMETER: Element = el("Parameter", NAME_VALUE, &[], Text::None);
pub(crate) static CONFIG: Element = el("Config", NAME_VALUE, &[], Text::None);
pub(crate) static STREAM: Element = el("Stream", STREAM_ATTRS, &[&PARAMETER], Text::None);
pub(crate) static SIPREC: Element = el("Siprec", SIPREC_ATTRS, &[&PARAMETER], Text::None);
pub(crate) static TRANSCRIPTION: Element = el(
    "Transcription",
    TRANSCRIPTION_ATTRS,
    &[&CONFIG, &PARAMETER],
    Text::None,
);
pub(crate) static RECORDING: Element = el(
    "Recording",
    &[
        a("channels", OneOf(&["mono", "dual"])),
        a("recordingConfigurationId", Any),
        a("recordingStatusCallback", Any),
        a("recordingStatusCallbackEvent", SpaceSet(RECORDING_EVENTS)),
        a("recordingStatusCallbackMethod", Method),
        a("track", OneOf(&["inbound", "outbound", "both"])),
        a("trim", OneOf(TRIM)),
    ],
    &[],
    Text::None,
);
pub(crate) static ROOM: Element = el(
    "Room",
    &[a("participantIdentity", Any)],
    &[],
    Text::Required,
);
pub(crate) static AUTOPILOT: Element = el("Autopilot", &[], &[], Text::Required);
pub(crate) static VIRTUAL_AGENT: Element = el(
    "VirtualAgent",
    &[
        a("connectorName", Any),
        a("language", Any),
        a("sentimentAnalysis", Bool),
        a("statusCallback", Any),
        a("statusCallbackMethod", Method),
    ],
    &[&CONFIG, &PARAMETER],
    Text::None,
);
pub(crate) static CONVERSATION: Element = el(
    "Conversation",
    &[
        a("inboundAutocreation", Bool),
        a("inboundTimeout", Int),
        a("method", Method),
        // Conversation records a call the way <Dial> does.
        a("record", OneOf(DIAL_RECORD)),
        a("recordingStatusCallback", Any),
        a("recordingStatusCallbackEvent", SpaceSet(RECORDING_EVENTS)),
        a("recordingStatusCallbackMethod", Method),
        a("routingAssignmentTimeout", Int),
        a("serviceInstanceSid", Any),
        a("statusCallback", Any),
        a(
            "statusCallbackEvent",
            SpaceSet(&[
                "call-initiated",
                "call-ringing",
                "call-answered",
                "call-completed",
            ]),
        ),
        a("statusCallbackMethod", Method),
        a("trim", OneOf(TRIM)),
        a("url", Any),
    ],
    &[],
    Text::None,
);

/// `$own`, then the attributes `<ConversationRelay>` and `<Assistant>` share (the voice agent's
/// speech, language and greeting settings).
macro_rules! voice_agent_attributes {
    ($($own:expr),* $(,)?) => {
        &[
            $($own,)*
            a("debug", Any),
            a("dtmfDetection", Bool),
            a("elevenlabsTextNormalization", Any),
            a("hints", Any),
            a("intelligenceService", Any),
            a("interruptSensitivity", Any),
            a("interruptible", Any),
            a("language", Any),
            a("partialPrompts", Bool),
            a("preemptible", Bool),
            a("profanityFilter", Bool),
            a("reportInputDuringAgentSpeech", Bool),
            a("speechModel", Any),
            a("transcriptionLanguage", Any),
            a("transcriptionProvider", Any),
            a("ttsLanguage", Any),
            a("ttsProvider", Any),
            a("voice", Any),
            a("welcomeGreeting", Any),
            a("welcomeGreetingInterruptible", Any),
        ]
    };
}

pub(crate) static CONVERSATION_RELAY: Element = el(
    "ConversationRelay",
    voice_agent_attributes![
        a("backgroundnoisereduction", Any),
        a("deepgramsmartformat", Any),
        a("events", Any),
        a("ignorebackchannel", Any),
        a("speechtimeout", Any),
        a("url", Any),
    ],
    &[&LANGUAGE, &PARAMETER],
    Text::None,
);
pub(crate) static ASSISTANT: Element = el(
    "Assistant",
    voice_agent_attributes![a("id", Any)],
    &[&LANGUAGE, &PARAMETER],
    Text::None,
);
pub(crate) static AI_SESSION: Element = el(
    "AiSession",
    &[a("aiConnector", Any), a("aiSessionConfiguration", Any)],
    &[],
    Text::None,
);
pub(crate) static CONVERSATION_RELAY_SESSION: Element = el(
    "ConversationRelaySession",
    &[a("connector", Any), a("sessionConfiguration", Any)],
    &[],
    Text::None,
);
pub(crate) static LANGUAGE: Element = el(
    "Language",
    &[
        a("code", Any),
        a("speechModel", Any),
        a("transcriptionProvider", Any),
        a("ttsProvider", Any),
        a("voice", Any),
    ],
    &[],
    Text::None,
);

// ---- SSML inside <Say> ----

static SSML_ALL: [&Element; 10] = [
    &SSML_BREAK,
    &SSML_EMPHASIS,
    &SSML_LANG,
    &SSML_P,
    &SSML_PHONEME,
    &SSML_PROSODY,
    &SSML_S,
    &SSML_SAY_AS,
    &SSML_SUB,
    &SSML_W,
];
/// Inside `<s>` and `<emphasis>`: no `<p>` or `<s>`.
static SSML_IN_S: [&Element; 8] = [
    &SSML_BREAK,
    &SSML_EMPHASIS,
    &SSML_LANG,
    &SSML_PHONEME,
    &SSML_PROSODY,
    &SSML_SAY_AS,
    &SSML_SUB,
    &SSML_W,
];
/// Inside `<p>`: no `<p>`.
static SSML_IN_P: [&Element; 9] = [
    &SSML_BREAK,
    &SSML_EMPHASIS,
    &SSML_LANG,
    &SSML_PHONEME,
    &SSML_PROSODY,
    &SSML_S,
    &SSML_SAY_AS,
    &SSML_SUB,
    &SSML_W,
];
/// Inside `<w>`: no `<lang>`, `<p>`, `<s>` or `<w>`.
static SSML_IN_W: [&Element; 6] = [
    &SSML_BREAK,
    &SSML_EMPHASIS,
    &SSML_PHONEME,
    &SSML_PROSODY,
    &SSML_SAY_AS,
    &SSML_SUB,
];

pub(crate) static SSML_BREAK: Element = el(
    "break",
    &[
        a(
            "strength",
            OneOf(&["none", "x-weak", "weak", "medium", "strong", "x-strong"]),
        ),
        a("time", Any),
    ],
    &[],
    Text::None,
);
pub(crate) static SSML_EMPHASIS: Element = el(
    "emphasis",
    &[a("level", OneOf(&["strong", "moderate", "reduced"]))],
    &SSML_IN_S,
    Text::Optional,
);
pub(crate) static SSML_LANG: Element = el("lang", &[a("xml:lang", Any)], &SSML_ALL, Text::Optional);
pub(crate) static SSML_P: Element = el("p", &[], &SSML_IN_P, Text::Optional);
pub(crate) static SSML_PHONEME: Element = el(
    "phoneme",
    &[
        a(
            "alphabet",
            OneOf(&[
                "ipa",
                "x-sampa",
                "x-amazon-jyutping",
                "x-amazon-pinyin",
                "x-amazon-pron-kana",
                "x-amazon-yomigana",
            ]),
        ),
        a("ph", Any),
    ],
    &[],
    Text::Required,
);
pub(crate) static SSML_PROSODY: Element = el(
    "prosody",
    &[a("pitch", Any), a("rate", Any), a("volume", Any)],
    &SSML_ALL,
    Text::Optional,
);
pub(crate) static SSML_S: Element = el("s", &[], &SSML_IN_S, Text::Optional);
pub(crate) static SSML_SAY_AS: Element = el(
    "say-as",
    &[
        a(
            "format",
            OneOf(&[
                "mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y", "yyyymmdd",
            ]),
        ),
        a(
            "interpret-as",
            OneOf(&[
                "characters",
                "spell-out",
                "cardinal",
                "number",
                "ordinal",
                "digits",
                "fraction",
                "unit",
                "date",
                "time",
                "address",
                "expletive",
                "telephone",
            ]),
        ),
    ],
    &[],
    Text::Required,
);
pub(crate) static SSML_SUB: Element = el("sub", &[a("alias", Any)], &[], Text::Required);
pub(crate) static SSML_W: Element = el("w", &[a("role", Any)], &SSML_IN_W, Text::Optional);

/// Every element of the vocabulary, for did-you-mean and "where it belongs" messages.
pub(crate) static ALL: &[&Element] = &[
    &RESPONSE,
    &CONNECT,
    &DIAL,
    &ECHO,
    &ENQUEUE,
    &GATHER,
    &HANGUP,
    &LEAVE,
    &PAUSE,
    &PAY,
    &PLAY,
    &PROMPT,
    &RECORD,
    &REDIRECT,
    &REFER,
    &REJECT,
    &SAY,
    &SMS,
    &START,
    &STOP,
    &APPLICATION,
    &APPLICATION_SID,
    &CLIENT,
    &IDENTITY,
    &CONFERENCE,
    &NUMBER,
    &QUEUE,
    &SIM,
    &SIP,
    &HEADERS,
    &HEADER,
    &SIP_URI,
    &WHATSAPP,
    &REFER_SIP,
    &TASK,
    &PARAMETER,
    &CONFIG,
    &STREAM,
    &SIPREC,
    &TRANSCRIPTION,
    &RECORDING,
    &ROOM,
    &AUTOPILOT,
    &VIRTUAL_AGENT,
    &CONVERSATION,
    &CONVERSATION_RELAY,
    &ASSISTANT,
    &AI_SESSION,
    &CONVERSATION_RELAY_SESSION,
    &LANGUAGE,
    &SSML_BREAK,
    &SSML_EMPHASIS,
    &SSML_LANG,
    &SSML_P,
    &SSML_PHONEME,
    &SSML_PROSODY,
    &SSML_S,
    &SSML_SAY_AS,
    &SSML_SUB,
    &SSML_W,
];

/// Why `value` does not fit the attribute `attribute` of `<Dial>` (`noun` `None`) or of a noun
/// it holds, worded as the checker words it; `None` when it fits, or when the schema does not
/// know the attribute.
pub fn dial_attribute_problem(noun: Option<&str>, attribute: &str, value: &str) -> Option<String> {
    let element = match noun {
        None => &DIAL,
        Some(noun) => DIAL.child(noun)?,
    };
    value_problem(element.attr(attribute)?.kind, value)
}

/// Why `value` is not acceptable for `kind`, or `None`.
pub(crate) fn value_problem(kind: Kind, value: &str) -> Option<String> {
    let one_of = |allowed: &[&str], v: &str| -> Option<String> {
        if allowed.contains(&v) {
            return None;
        }
        Some(match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
            Some(a) => format!("must be {}; did you mean {a:?}?", list(allowed)),
            None => format!("must be {}", list(allowed)),
        })
    };
    match kind {
        Kind::Any => None,
        Kind::Bool => one_of(&["true", "false"], value),
        Kind::Method => one_of(&["GET", "POST"], value),
        Kind::OneOf(allowed) => one_of(allowed, value),
        Kind::Int => {
            let ok =
                !value.is_empty() && value.len() <= 9 && value.bytes().all(|b| b.is_ascii_digit());
            (!ok).then(|| "must be a whole number (0 or more, digits only)".to_owned())
        }
        Kind::SpaceSet(allowed) => {
            if value.trim().is_empty() {
                return Some(format!("must list one or more of {}", list(allowed)));
            }
            value.split_ascii_whitespace().find_map(|item| {
                let comma = if item.contains(',') {
                    "; separate values with spaces, not commas"
                } else {
                    ""
                };
                one_of(allowed, item).map(|p| format!("has {item:?}, which {p}{comma}"))
            })
        }
        Kind::CommaSet(allowed) => value.split(',').find_map(|item| {
            let item = item.trim();
            let space = if item.contains(' ') {
                "; separate values with commas"
            } else {
                ""
            };
            if item.is_empty() {
                return Some(format!(
                    "has an empty item; list {} separated by commas",
                    list(allowed)
                ));
            }
            one_of(allowed, item).map(|p| format!("has {item:?}, which {p}{space}"))
        }),
    }
}

/// `a or b`, or `one of a, b, c`: allowed values as findings name them.
pub(crate) fn list(items: &[&str]) -> String {
    match items {
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", items.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reachable(el: &'static Element, seen: &mut Vec<&'static Element>) {
        if seen.iter().any(|s| ptr::eq(*s, el)) {
            return;
        }
        seen.push(el);
        for child in el.children {
            reachable(child, seen);
        }
    }

    use std::ptr;

    #[test]
    fn all_lists_exactly_what_response_reaches() {
        let mut seen = Vec::new();
        reachable(&RESPONSE, &mut seen);
        for el in &seen {
            assert!(
                ALL.iter().any(|a| ptr::eq(*a, *el)),
                "<{}> is reachable but not in ALL",
                el.name
            );
        }
        for el in ALL {
            assert!(
                seen.iter().any(|s| ptr::eq(*s, *el)),
                "<{}> is in ALL but unreachable",
                el.name
            );
        }
        assert_eq!(seen.len(), ALL.len());
    }

    #[test]
    fn names_are_unique_where_they_are_looked_up() {
        for el in ALL {
            for (i, c) in el.children.iter().enumerate() {
                assert!(
                    el.children[..i].iter().all(|o| o.name != c.name),
                    "<{}> twice in <{}>",
                    c.name,
                    el.name
                );
            }
            for (i, at) in el.attrs.iter().enumerate() {
                assert!(
                    el.attrs[..i].iter().all(|o| o.name != at.name),
                    "{} twice on <{}>",
                    at.name,
                    el.name
                );
            }
        }
        // Only <Sip> has two specs: a dialled party in <Dial>, a transfer target in <Refer>.
        for (i, el) in ALL.iter().enumerate() {
            let twins = ALL[..i].iter().filter(|o| o.name == el.name).count();
            assert!(twins == 0 || el.name == "Sip", "<{}> listed twice", el.name);
        }
    }

    #[test]
    fn text_waivers_name_real_children_and_attributes() {
        for el in ALL {
            match el.text {
                Text::OrChild(c) => assert!(
                    el.child(c).is_some(),
                    "<{}> waits for missing <{c}>",
                    el.name
                ),
                Text::OrAttr(a) => {
                    assert!(el.attr(a).is_some(), "<{}> waits for missing {a}", el.name)
                }
                _ => {}
            }
        }
    }

    #[test]
    fn sip_matches_seed_003() {
        assert_eq!(
            SIP.attr("codecs").map(|a| a.kind),
            Some(CommaSet(SIP_CODECS))
        );
        assert_eq!(SIP.attr("sessionTimeout").map(|a| a.kind), Some(Int));
        assert_eq!(
            SIP.attr("statusCallbackEvent").map(|a| a.kind),
            Some(SpaceSet(CALL_EVENTS))
        );
        assert!(REFER_SIP.attrs.is_empty());
    }
}
