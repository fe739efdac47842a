//! The attribute values TwiML fixes, spelled as TwiML writes them.

wire_enum! {
    /// HTTP method of an action or callback URL.
    Method {
        Get => "GET",
        Post => "POST",
    }
}

wire_enum! {
    /// Call progress events of a dialed `<Number>`, `<Sip>`, `<Client>`, `<Application>` or
    /// `<WhatsApp>` (`statusCallbackEvent`).
    CallEvent {
        Initiated => "initiated",
        Ringing => "ringing",
        Answered => "answered",
        Completed => "completed",
    }
}

/// `statusCallbackEvent` values of `<Sip>`.
pub type SipEvent = CallEvent;

wire_enum! {
    /// Recording status events (`recordingStatusCallbackEvent`).
    RecordingEvent {
        InProgress => "in-progress",
        Completed => "completed",
        Absent => "absent",
    }
}

wire_enum! {
    /// `<Conference>` events (`statusCallbackEvent`).
    ConferenceEvent {
        Start => "start",
        End => "end",
        Join => "join",
        Leave => "leave",
        Mute => "mute",
        Hold => "hold",
        Modify => "modify",
        Speaker => "speaker",
        Announcement => "announcement",
    }
}

wire_enum! {
    /// `<Conversation>` events (`statusCallbackEvent`).
    ConversationEvent {
        CallInitiated => "call-initiated",
        CallRinging => "call-ringing",
        CallAnswered => "call-answered",
        CallCompleted => "call-completed",
    }
}

wire_enum! {
    /// `<Dial>` event subscriptions (`events`).
    DialEvent {
        CallProgressEvent => "call-progress-event",
    }
}

wire_enum! {
    /// Whether and how `<Dial>` records (`record`).
    DialRecord {
        DoNotRecord => "do-not-record",
        RecordFromAnswer => "record-from-answer",
        RecordFromRinging => "record-from-ringing",
        RecordFromAnswerDual => "record-from-answer-dual",
        RecordFromRingingDual => "record-from-ringing-dual",
    }
}

wire_enum! {
    /// Whether and how `<Conversation>` records (`record`).
    ConversationRecord {
        DoNotRecord => "do-not-record",
        RecordFromAnswer => "record-from-answer",
        RecordFromRinging => "record-from-ringing",
        RecordFromAnswerDual => "record-from-answer-dual",
        RecordFromRingingDual => "record-from-ringing-dual",
        True => "true",
        False => "false",
    }
}

wire_enum! {
    /// Whether `<Conference>` records (`record`).
    ConferenceRecord {
        DoNotRecord => "do-not-record",
        RecordFromStart => "record-from-start",
    }
}

wire_enum! {
    /// Whether silence is trimmed from a recording (`trim`).
    Trim {
        TrimSilence => "trim-silence",
        DoNotTrim => "do-not-trim",
    }
}

wire_enum! {
    /// Which audio a recording takes (`recordingTrack` of `<Dial>`, `track` of `<Recording>`).
    RecordingTrack {
        Both => "both",
        Inbound => "inbound",
        Outbound => "outbound",
    }
}

wire_enum! {
    /// Channels of a `<Recording>` (`channels`).
    RecordingChannels {
        Mono => "mono",
        Dual => "dual",
    }
}

wire_enum! {
    /// Audio a `<Stream>`, `<Siprec>` or `<Transcription>` takes (`track`).
    Track {
        InboundTrack => "inbound_track",
        OutboundTrack => "outbound_track",
        BothTracks => "both_tracks",
    }
}

wire_enum! {
    /// When `<Conference>` beeps (`beep`).
    ConferenceBeep {
        True => "true",
        False => "false",
        OnEnter => "onEnter",
        OnExit => "onExit",
    }
}

wire_enum! {
    /// Jitter buffer of a conference participant (`jitterBufferSize`).
    JitterBufferSize {
        Large => "large",
        Medium => "medium",
        Small => "small",
        Off => "off",
    }
}

wire_enum! {
    /// Twilio region: where a conference is mixed, or (as `;region=`) where SIP traffic leaves.
    Region {
        Us1 => "us1",
        Us2 => "us2",
        Ie1 => "ie1",
        De1 => "de1",
        Sg1 => "sg1",
        Jp1 => "jp1",
        Br1 => "br1",
        Au1 => "au1",
    }
}

wire_enum! {
    /// SIP signalling transport (`;transport=` of a SIP URI).
    Transport {
        Udp => "udp",
        Tcp => "tcp",
        Tls => "tls",
    }
}

wire_enum! {
    /// Codecs offered to a SIP user agent (`codecs` of `<Sip>` on compatible platforms).
    Codec {
        Pcmu => "PCMU",
        Pcma => "PCMA",
        G722 => "G722",
        G729 => "G729",
        Opus => "OPUS",
    }
}

wire_enum! {
    /// Input `<Gather>` accepts (`input`).
    GatherInput {
        Dtmf => "dtmf",
        Speech => "speech",
    }
}

wire_enum! {
    /// Answering machine detection mode of `<Number>` and `<Sip>` (`machineDetection`).
    MachineDetection {
        Enable => "Enable",
        DetectMessageEnd => "DetectMessageEnd",
    }
}

wire_enum! {
    /// Why `<Reject>` refuses the call (`reason`).
    RejectReason {
        Rejected => "rejected",
        Busy => "busy",
    }
}

wire_enum! {
    /// Input `<Pay>` accepts (`input`).
    PayInput {
        Dtmf => "dtmf",
    }
}

wire_enum! {
    /// How `<Pay>` charges (`paymentMethod`).
    PaymentMethod {
        AchDebit => "ach-debit",
        CreditCard => "credit-card",
    }
}

wire_enum! {
    /// Bank account type of an ACH payment (`bankAccountType`).
    BankAccountType {
        ConsumerChecking => "consumer-checking",
        ConsumerSavings => "consumer-savings",
        CommercialChecking => "commercial-checking",
        CommercialSavings => "commercial-savings",
    }
}

wire_enum! {
    /// Kind of payment token `<Pay>` creates (`tokenType`).
    TokenType {
        OneTime => "one-time",
        Reusable => "reusable",
        PaymentMethod => "payment-method",
    }
}

wire_enum! {
    /// Card brands (`validCardTypes` of `<Pay>`, `cardType` of `<Prompt>`).
    CardType {
        Visa => "visa",
        Mastercard => "mastercard",
        Amex => "amex",
        Maestro => "maestro",
        Discover => "discover",
        Optima => "optima",
        Jcb => "jcb",
        DinersClub => "diners-club",
        Enroute => "enroute",
    }
}

wire_enum! {
    /// The payment step a `<Prompt>` replaces (`for`).
    PromptFor {
        PaymentCardNumber => "payment-card-number",
        ExpirationDate => "expiration-date",
        SecurityCode => "security-code",
        PostalCode => "postal-code",
        PaymentProcessing => "payment-processing",
        BankAccountNumber => "bank-account-number",
        BankRoutingNumber => "bank-routing-number",
    }
}

wire_enum! {
    /// Payment errors a `<Prompt>` answers (`errorType`).
    PromptErrorType {
        Timeout => "timeout",
        InvalidCardNumber => "invalid-card-number",
        InvalidCardType => "invalid-card-type",
        InvalidDate => "invalid-date",
        InvalidSecurityCode => "invalid-security-code",
        InternalError => "internal-error",
        InputMatchingFailed => "input-matching-failed",
    }
}

wire_enum! {
    /// Length of an SSML `<break>` by strength (`strength`).
    BreakStrength {
        None => "none",
        XWeak => "x-weak",
        Weak => "weak",
        Medium => "medium",
        Strong => "strong",
        XStrong => "x-strong",
    }
}

wire_enum! {
    /// Degree of an SSML `<emphasis>` (`level`).
    EmphasisLevel {
        Strong => "strong",
        Moderate => "moderate",
        Reduced => "reduced",
    }
}

wire_enum! {
    /// Phonetic alphabet of an SSML `<phoneme>` (`alphabet`).
    PhonemeAlphabet {
        Ipa => "ipa",
        XSampa => "x-sampa",
        XAmazonJyutping => "x-amazon-jyutping",
        XAmazonPinyin => "x-amazon-pinyin",
        XAmazonPronKana => "x-amazon-pron-kana",
        XAmazonYomigana => "x-amazon-yomigana",
    }
}

wire_enum! {
    /// How an SSML `<say-as>` reads its words (`interpret-as`).
    InterpretAs {
        Characters => "characters",
        SpellOut => "spell-out",
        Cardinal => "cardinal",
        Number => "number",
        Ordinal => "ordinal",
        Digits => "digits",
        Fraction => "fraction",
        Unit => "unit",
        Date => "date",
        Time => "time",
        Address => "address",
        Expletive => "expletive",
        Telephone => "telephone",
    }
}

wire_enum! {
    /// Date layout of an SSML `<say-as interpret-as="date">` (`format`).
    SayAsFormat {
        Mdy => "mdy",
        Dmy => "dmy",
        Ymd => "ymd",
        Md => "md",
        Dm => "dm",
        Ym => "ym",
        My => "my",
        D => "d",
        M => "m",
        Y => "y",
        Yyyymmdd => "yyyymmdd",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_twiml_spells_them() {
        assert_eq!(Method::Post.to_string(), "POST");
        assert_eq!(SipEvent::Answered.as_str(), "answered");
        assert_eq!(Track::BothTracks.as_str(), "both_tracks");
        assert_eq!(ConferenceBeep::OnEnter.as_str(), "onEnter");
        assert_eq!(
            MachineDetection::DetectMessageEnd.as_str(),
            "DetectMessageEnd"
        );
        assert_eq!(Codec::G722.as_str(), "G722");
        assert_eq!(InterpretAs::SpellOut.as_str(), "spell-out");
    }

    /// The values the builder offers are the ones the TwiML check accepts: one list each.
    #[test]
    fn values_are_the_checks_own() {
        let wire = |values: &[&'static str]| values.to_vec();
        assert_eq!(
            Region::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            wire(twiml_edge_twiml::REGIONS)
        );
        assert_eq!(
            Transport::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
            wire(twiml_edge_twiml::TRANSPORTS)
        );
        assert_eq!(
            CallEvent::ALL
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>(),
            wire(twiml_edge_twiml::CALL_EVENTS)
        );
    }
}
