//! `<Start>` and `<Stop>`: media streams, SIPREC, real-time transcription and recording that run
//! alongside the call.

use super::{
    Config, Method, Parameter, RecordingChannels, RecordingEvent, RecordingTrack, Track, Trim,
};

element! {
    /// `<Start>`: starts a stream, SIPREC session, transcription or recording and carries on.
    Start("Start") {
        /// `action`: URL to request once started.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
    }
}

children!(Start {
    recording: Recording,
    siprec: Siprec,
    stream: Stream,
    transcription: Transcription,
});

element! {
    /// `<Stop>`: stops a stream, SIPREC session or transcription started by name.
    Stop("Stop") {}
}

children!(Stop {
    siprec: Siprec,
    stream: Stream,
    transcription: Transcription,
});

element! {
    /// `<Stream>`: the call's audio over a WebSocket.
    Stream("Stream") {
        /// `name`: a name to stop the stream by.
        name: String = "name",
        /// `connectorName`: the stream connector's unique name.
        connector_name: String = "connectorName",
        /// `url`: the `wss://` URL to stream to.
        url: String = "url",
        /// `track`: which audio to stream.
        track: Track = "track",
        /// `statusCallback`: URL told about the stream's status.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `audioFormat`: the audio format to stream.
        audio_format: String = "audioFormat",
        /// `sampleRate`: the sample rate of HD audio.
        sample_rate: u32 = "sampleRate",
    }
}

children!(Stream {
    parameter: Parameter,
});

element! {
    /// `<Siprec>`: the call's audio to a SIPREC recorder.
    Siprec("Siprec") {
        /// `name`: a name to stop the session by.
        name: String = "name",
        /// `connectorName`: the SIPREC connector's unique name.
        connector_name: String = "connectorName",
        /// `track`: which audio to send.
        track: Track = "track",
        /// `statusCallback`: URL told about the session's status.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
    }
}

children!(Siprec {
    parameter: Parameter,
});

element! {
    /// `<Transcription>`: real-time transcription of the call.
    Transcription("Transcription") {
        /// `name`: a name to stop the transcription by.
        name: String = "name",
        /// `track`: which audio to transcribe.
        track: Track = "track",
        /// `statusCallbackUrl`: URL the transcripts are sent to.
        status_callback_url: String = "statusCallbackUrl",
        /// `statusCallbackMethod`: HTTP method for `statusCallbackUrl`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `inboundTrackLabel`: label of the inbound audio.
        inbound_track_label: String = "inboundTrackLabel",
        /// `outboundTrackLabel`: label of the outbound audio.
        outbound_track_label: String = "outboundTrackLabel",
        /// `partialResults`: whether to send partial transcripts.
        partial_results: bool = "partialResults",
        /// `languageCode`: the speech's language, such as `en-US`.
        language_code: String = "languageCode",
        /// `transcriptionEngine`: the engine, such as `google` or `deepgram`.
        transcription_engine: String = "transcriptionEngine",
        /// `profanityFilter`: whether to mask profanities.
        profanity_filter: bool = "profanityFilter",
        /// `speechModel`: the engine's speech model.
        speech_model: String = "speechModel",
        /// `hints`: words or phrases likely to be spoken.
        hints: String = "hints",
        /// `enableAutomaticPunctuation`: whether to punctuate the transcripts.
        enable_automatic_punctuation: bool = "enableAutomaticPunctuation",
        /// `intelligenceService`: the Conversational Intelligence service to use.
        intelligence_service: String = "intelligenceService",
    }
}

children!(Transcription {
    config: Config,
    parameter: Parameter,
});

element! {
    /// `<Recording>`: records the call from this point on.
    Recording("Recording") {
        /// `recordingStatusCallback`: URL told about the recording's progress.
        recording_status_callback: String = "recordingStatusCallback",
        /// `recordingStatusCallbackMethod`: HTTP method for `recordingStatusCallback`.
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        /// `recordingStatusCallbackEvent`: the recording events to report.
        recording_status_callback_event: [RecordingEvent] = "recordingStatusCallbackEvent",
        /// `trim`: whether to trim silence.
        trim: Trim = "trim",
        /// `track`: which audio to record.
        track: RecordingTrack = "track",
        /// `channels`: mono or dual-channel recording.
        channels: RecordingChannels = "channels",
        /// `recordingConfigurationId`: the recording configuration to apply.
        recording_configuration_id: String = "recordingConfigurationId",
    }
}
