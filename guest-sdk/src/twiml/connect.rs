//! `<Connect>`: hands the call to a stream, a video room, an AI agent or a conversation.

use super::{
    Config, ConversationEvent, ConversationRecord, Method, Parameter, RecordingEvent, Stream, Trim,
};

element! {
    /// `<Connect>`: connects the call to one of its nouns until that ends.
    Connect("Connect") {
        /// `action`: URL to request when the connection ends.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
    }
}

children!(Connect {
    ai_session: AiSession,
    autopilot: Autopilot,
    conversation: Conversation,
    conversation_relay: ConversationRelay,
    conversation_relay_session: ConversationRelaySession,
    room: Room,
    stream: Stream,
    virtual_agent: VirtualAgent,
});

element! {
    /// `<Room>`: a Programmable Video room, by name.
    Room("Room", text name) {
        /// `participantIdentity`: the caller's identity in the room.
        participant_identity: String = "participantIdentity",
    }
}

element! {
    /// `<ConversationRelay>`: speech to and from an application over a WebSocket.
    ConversationRelay("ConversationRelay") {
        /// `url`: the `wss://` URL of the application.
        url: String = "url",
        /// `language`: the language of speech in both directions, such as `en-US`.
        language: String = "language",
        /// `ttsLanguage`: the text-to-speech language.
        tts_language: String = "ttsLanguage",
        /// `transcriptionLanguage`: the transcription language.
        transcription_language: String = "transcriptionLanguage",
        /// `ttsProvider`: the text-to-speech provider.
        tts_provider: String = "ttsProvider",
        /// `voice`: the text-to-speech voice.
        voice: String = "voice",
        /// `transcriptionProvider`: the transcription provider.
        transcription_provider: String = "transcriptionProvider",
        /// `speechModel`: the transcription model.
        speech_model: String = "speechModel",
        /// `profanityFilter`: whether to mask profanities in transcripts.
        profanity_filter: bool = "profanityFilter",
        /// `dtmfDetection`: whether to report DTMF tones.
        dtmf_detection: bool = "dtmfDetection",
        /// `welcomeGreeting`: what to say once connected.
        welcome_greeting: String = "welcomeGreeting",
        /// `partialPrompts`: whether to send partial transcripts while the caller speaks.
        partial_prompts: bool = "partialPrompts",
        /// `welcomeGreetingInterruptible`: what caller input interrupts the greeting.
        welcome_greeting_interruptible: String = "welcomeGreetingInterruptible",
        /// `interruptible`: what caller input interrupts text-to-speech.
        interruptible: String = "interruptible",
        /// `preemptible`: whether new speech or media interrupts what is playing.
        preemptible: bool = "preemptible",
        /// `hints`: phrases likely to be spoken.
        hints: String = "hints",
        /// `intelligenceService`: the Conversational Intelligence service to use.
        intelligence_service: String = "intelligenceService",
        /// `reportInputDuringAgentSpeech`: what caller input to report while speech plays.
        report_input_during_agent_speech: String = "reportInputDuringAgentSpeech",
        /// `elevenlabsTextNormalization`: ElevenLabs text normalization (`on`, `off`, `auto`).
        elevenlabs_text_normalization: String = "elevenlabsTextNormalization",
        /// `interruptSensitivity`: `low`, `medium` or `high`.
        interrupt_sensitivity: String = "interruptSensitivity",
        /// `debug`: debugging options.
        debug: String = "debug",
        /// `backgroundNoiseReduction`: whether to filter background noise before transcription.
        background_noise_reduction: bool = "backgroundNoiseReduction",
        /// `speechTimeout`: the silence that ends speech.
        speech_timeout: String = "speechTimeout",
        /// `deepgramSmartFormat`: whether Deepgram formats transcripts.
        deepgram_smart_format: bool = "deepgramSmartFormat",
        /// `ignoreBackchannel`: whether brief acknowledgements ("uh-huh") are ignored.
        ignore_backchannel: bool = "ignoreBackchannel",
        /// `events`: the event subscriptions.
        events: String = "events",
        /// `partialPromptOnHangup`: whether a partial transcript is reported on hang-up.
        partial_prompt_on_hangup: bool = "partialPromptOnHangup",
        /// `eagerEotThreshold`: eager end-of-turn confidence, 0.3 to 0.9.
        eager_eot_threshold: String = "eagerEotThreshold",
        /// `asrSmartFormat`: whether transcripts are smart-formatted.
        asr_smart_format: bool = "asrSmartFormat",
        /// `ttsTextNormalization`: text-to-speech normalization (`auto`, `on`, `off`).
        tts_text_normalization: String = "ttsTextNormalization",
        /// `ttsLanguageTextNormalization`: whether language-specific normalization applies.
        tts_language_text_normalization: bool = "ttsLanguageTextNormalization",
        /// `elevenlabsLanguageTextNormalization`: legacy name of `ttsLanguageTextNormalization`.
        elevenlabs_language_text_normalization: bool = "elevenlabsLanguageTextNormalization",
        /// `includeInPrompt`: extra fields of prompt messages (`turn-state`, `prompt-segments`).
        include_in_prompt: String = "includeInPrompt",
        /// `customerName`: the customer's name (default the caller ID).
        customer_name: String = "customerName",
        /// `applicationReconnect`: whether a dropped WebSocket is reconnected.
        application_reconnect: bool = "applicationReconnect",
        /// `echoPromptFiltering`: whether transcripts echoing the agent's speech are dropped.
        echo_prompt_filtering: bool = "echoPromptFiltering",
        /// `turnDetection`: whether turn detection decides when the caller has finished.
        turn_detection: bool = "turnDetection",
    }
}

children!(ConversationRelay {
    language_setting: Language,
    parameter: Parameter,
});

element! {
    /// `<Language>`: speech settings of one language of a `<ConversationRelay>`.
    Language("Language") {
        /// `code`: the language the settings are for, such as `es-ES`.
        code: String = "code",
        /// `ttsProvider`: the text-to-speech provider.
        tts_provider: String = "ttsProvider",
        /// `voice`: the text-to-speech voice.
        voice: String = "voice",
        /// `transcriptionProvider`: the transcription provider.
        transcription_provider: String = "transcriptionProvider",
        /// `speechModel`: the transcription model.
        speech_model: String = "speechModel",
        /// `hints`: phrases likely to be spoken.
        hints: String = "hints",
        /// `asrSmartFormat`: whether transcripts are smart-formatted.
        asr_smart_format: bool = "asrSmartFormat",
        /// `ttsTextNormalization`: text-to-speech normalization (`auto`, `on`, `off`).
        tts_text_normalization: String = "ttsTextNormalization",
        /// `ttsLanguageTextNormalization`: whether language-specific normalization applies.
        tts_language_text_normalization: bool = "ttsLanguageTextNormalization",
    }
}

element! {
    /// `<ConversationRelaySession>`: a ConversationRelay session from a stored configuration.
    ConversationRelaySession("ConversationRelaySession") {
        /// `connector`: the connector's unique name or SID.
        connector: String = "connector",
        /// `sessionConfiguration`: the session configuration's unique name or SID.
        session_configuration: String = "sessionConfiguration",
    }
}

element! {
    /// `<AiSession>`: an AI connector session.
    AiSession("AiSession") {
        /// `aiConnector`: the AI connector's unique name or SID.
        ai_connector: String = "aiConnector",
        /// `aiSessionConfiguration`: the session configuration's unique name or SID.
        ai_session_configuration: String = "aiSessionConfiguration",
    }
}

element! {
    /// `<VirtualAgent>`: a Dialogflow virtual agent.
    VirtualAgent("VirtualAgent") {
        /// `connectorName`: the Dialogflow conversation profile's connector.
        connector_name: String = "connectorName",
        /// `language`: the speech's language.
        language: String = "language",
        /// `sentimentAnalysis`: whether to analyse sentiment.
        sentiment_analysis: bool = "sentimentAnalysis",
        /// `statusCallback`: URL told about the session's status.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
    }
}

children!(VirtualAgent {
    config: Config,
    parameter: Parameter,
});

element! {
    /// `<Conversation>`: a Twilio Conversations voice conversation.
    Conversation("Conversation") {
        /// `serviceInstanceSid`: the Conversations service.
        service_instance_sid: String = "serviceInstanceSid",
        /// `inboundAutocreation`: whether inbound calls create conversations.
        inbound_autocreation: bool = "inboundAutocreation",
        /// `routingAssignmentTimeout`: seconds to wait for routing.
        routing_assignment_timeout: u32 = "routingAssignmentTimeout",
        /// `inboundTimeout`: seconds to wait for an inbound answer.
        inbound_timeout: u32 = "inboundTimeout",
        /// `url`: TwiML to run.
        url: String = "url",
        /// `method`: HTTP method for `url`.
        method: Method = "method",
        /// `record`: whether and from when to record.
        record: ConversationRecord = "record",
        /// `trim`: whether to trim silence from the recording.
        trim: Trim = "trim",
        /// `recordingStatusCallback`: URL told about the recording's progress.
        recording_status_callback: String = "recordingStatusCallback",
        /// `recordingStatusCallbackMethod`: HTTP method for `recordingStatusCallback`.
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        /// `recordingStatusCallbackEvent`: the recording events to report.
        recording_status_callback_event: [RecordingEvent] = "recordingStatusCallbackEvent",
        /// `statusCallback`: URL told about the conversation's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `statusCallbackEvent`: the call events to report.
        status_callback_event: [ConversationEvent] = "statusCallbackEvent",
    }
}

element! {
    /// `<Autopilot>`: an Autopilot assistant, by SID or unique name (retired by Twilio).
    Autopilot("Autopilot", text name) {}
}
