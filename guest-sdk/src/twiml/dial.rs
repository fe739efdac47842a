//! `<Dial>` and the nouns it rings: numbers, SIP endpoints, clients, conferences, queues, SIMs,
//! applications and WhatsApp users.

use super::{
    CallEvent, ConferenceBeep, ConferenceEvent, ConferenceRecord, DialEvent, DialRecord,
    JitterBufferSize, MachineDetection, Method, Parameter, RecordingEvent, RecordingTrack, Region,
    Sip, Trim,
};

element! {
    /// `<Dial>`: connects the caller to the nouns it holds, in parallel or (with `sequential`)
    /// one after another. SIP domains allow up to 10 `<Sip>`/`<Number>`/`<Client>` nouns.
    Dial("Dial") {
        /// `action`: URL to request when the dialed call ends.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
        /// `timeout`: seconds to let the called party ring.
        timeout: u32 = "timeout",
        /// `hangupOnStar`: whether the caller can hang up on the called party by pressing `*`.
        hangup_on_star: bool = "hangupOnStar",
        /// `timeLimit`: most seconds the call may last.
        time_limit: u32 = "timeLimit",
        /// `callerId`: the caller ID shown; on SIP calls any letters, digits and `+-_.`.
        caller_id: String = "callerId",
        /// `record`: whether and from when to record.
        record: DialRecord = "record",
        /// `trim`: whether to trim silence from the recording.
        trim: Trim = "trim",
        /// `recordingStatusCallback`: URL told about the recording's progress.
        recording_status_callback: String = "recordingStatusCallback",
        /// `recordingConfigurationId`: the recording configuration to apply.
        recording_configuration_id: String = "recordingConfigurationId",
        /// `recordingStatusCallbackMethod`: HTTP method for `recordingStatusCallback`.
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        /// `recordingStatusCallbackEvent`: the recording events to report.
        recording_status_callback_event: [RecordingEvent] = "recordingStatusCallbackEvent",
        /// `answerOnBridge`: whether the caller keeps hearing ringing until the called party
        /// answers.
        answer_on_bridge: bool = "answerOnBridge",
        /// `ringTone`: the ringback tone's country, such as `us` or `de`.
        ring_tone: String = "ringTone",
        /// `recordingTrack`: which audio to record.
        recording_track: RecordingTrack = "recordingTrack",
        /// `sequential`: whether to ring the nouns one after another instead of all at once.
        sequential: bool = "sequential",
        /// `referUrl`: URL to request when the called party sends a SIP REFER.
        refer_url: String = "referUrl",
        /// `referMethod`: HTTP method for `referUrl`.
        refer_method: Method = "referMethod",
        /// `events`: the event subscriptions.
        events: DialEvent = "events",
        /// `passports`: base64 identity passports (SHAKEN, DIV) to send.
        passports: String = "passports",
    }
}

children!(Dial {
    application: Application,
    client: Client,
    conference: Conference,
    number: Number,
    queue: Queue,
    sim: Sim,
    sip: Sip,
    whats_app: WhatsApp,
});

mixed_content!(Dial);

element! {
    /// `<Number>`: a phone number to ring.
    Number("Number", text phone_number) {
        /// `sendDigits`: DTMF tones to play once the call is answered.
        send_digits: String = "sendDigits",
        /// `url`: TwiML to run for the called party before the calls are connected.
        url: String = "url",
        /// `method`: HTTP method for `url`.
        method: Method = "method",
        /// `statusCallbackEvent`: the call progress events to report.
        status_callback_event: [CallEvent] = "statusCallbackEvent",
        /// `statusCallback`: URL told about the call's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `byoc`: the BYOC trunk to call through.
        byoc: String = "byoc",
        /// `machineDetection`: answering machine detection.
        machine_detection: MachineDetection = "machineDetection",
        /// `amdStatusCallbackMethod`: HTTP method for `amdStatusCallback`.
        amd_status_callback_method: Method = "amdStatusCallbackMethod",
        /// `amdStatusCallback`: URL told the answering machine detection result.
        amd_status_callback: String = "amdStatusCallback",
        /// `machineDetectionTimeout`: seconds to spend detecting a machine.
        machine_detection_timeout: u32 = "machineDetectionTimeout",
        /// `machineDetectionSpeechThreshold`: milliseconds of speech that mean a machine.
        machine_detection_speech_threshold: u32 = "machineDetectionSpeechThreshold",
        /// `machineDetectionSpeechEndThreshold`: milliseconds of silence that end speech.
        machine_detection_speech_end_threshold: u32 = "machineDetectionSpeechEndThreshold",
        /// `machineDetectionSilenceTimeout`: milliseconds of initial silence before giving up.
        machine_detection_silence_timeout: u32 = "machineDetectionSilenceTimeout",
    }
}

element! {
    /// `<Client>`: a Voice SDK client to ring, by identity text or `<Identity>` child.
    Client("Client", text identity) {
        /// `url`: TwiML to run for the client before the calls are connected.
        url: String = "url",
        /// `method`: HTTP method for `url`.
        method: Method = "method",
        /// `statusCallbackEvent`: the call progress events to report.
        status_callback_event: [CallEvent] = "statusCallbackEvent",
        /// `statusCallback`: URL told about the call's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
    }
}

children!(Client {
    identity: Identity,
    parameter: Parameter,
});

element! {
    /// `<Identity>`: the identity of the `<Client>` to ring.
    Identity("Identity", text client_identity) {}
}

element! {
    /// `<Conference>`: joins the named conference room.
    Conference("Conference", text name) {
        /// `muted`: whether the participant joins muted.
        muted: bool = "muted",
        /// `beep`: when to beep as participants come and go.
        beep: ConferenceBeep = "beep",
        /// `startConferenceOnEnter`: whether the conference starts when this participant joins.
        start_conference_on_enter: bool = "startConferenceOnEnter",
        /// `endConferenceOnExit`: whether the conference ends when this participant leaves.
        end_conference_on_exit: bool = "endConferenceOnExit",
        /// `waitUrl`: TwiML or audio to play while waiting for the conference to start.
        wait_url: String = "waitUrl",
        /// `waitMethod`: HTTP method for `waitUrl`.
        wait_method: Method = "waitMethod",
        /// `maxParticipants`: most participants allowed.
        max_participants: u32 = "maxParticipants",
        /// `record`: whether to record the conference.
        record: ConferenceRecord = "record",
        /// `recordingConfigurationId`: the recording configuration to apply.
        recording_configuration_id: String = "recordingConfigurationId",
        /// `region`: where the conference is mixed.
        region: Region = "region",
        /// `coach`: the call SID of the participant to coach.
        coach: String = "coach",
        /// `trim`: whether to trim silence from the recording.
        trim: Trim = "trim",
        /// `statusCallbackEvent`: the conference events to report.
        status_callback_event: [ConferenceEvent] = "statusCallbackEvent",
        /// `statusCallback`: URL told about conference events.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `recordingStatusCallback`: URL told about the recording's progress.
        recording_status_callback: String = "recordingStatusCallback",
        /// `recordingStatusCallbackMethod`: HTTP method for `recordingStatusCallback`.
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        /// `recordingStatusCallbackEvent`: the recording events to report.
        recording_status_callback_event: [RecordingEvent] = "recordingStatusCallbackEvent",
        /// `eventCallbackUrl`: URL told about conference events (legacy).
        event_callback_url: String = "eventCallbackUrl",
        /// `jitterBufferSize`: the participant's jitter buffer.
        jitter_buffer_size: JitterBufferSize = "jitterBufferSize",
        /// `participantLabel`: a label for the participant.
        participant_label: String = "participantLabel",
    }
}

element! {
    /// `<Queue>`: connects to the first caller waiting in the named queue.
    Queue("Queue", text name) {
        /// `url`: TwiML to play to the dequeued caller before connecting.
        url: String = "url",
        /// `method`: HTTP method for `url`.
        method: Method = "method",
        /// `reservationSid`: the TaskRouter reservation to accept.
        reservation_sid: String = "reservationSid",
        /// `postWorkActivitySid`: the TaskRouter activity to set when the call ends.
        post_work_activity_sid: String = "postWorkActivitySid",
    }
}

element! {
    /// `<Sim>`: a Programmable Wireless SIM to ring, by SID.
    Sim("Sim", text sim_sid) {}
}

element! {
    /// `<Application>`: a TwiML application to connect to, by SID text or `<ApplicationSid>`.
    Application("Application", text application_sid) {
        /// `url`: TwiML to run for the application before the calls are connected.
        url: String = "url",
        /// `method`: HTTP method for `url`.
        method: Method = "method",
        /// `statusCallbackEvent`: the call progress events to report.
        status_callback_event: [CallEvent] = "statusCallbackEvent",
        /// `statusCallback`: URL told about the call's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `customerId`: the identity of the customer calling.
        customer_id: String = "customerId",
        /// `copyParentTo`: whether the application sees the parent call's `To`.
        copy_parent_to: bool = "copyParentTo",
    }
}

children!(Application {
    application_sid: ApplicationSid,
    parameter: Parameter,
});

element! {
    /// `<ApplicationSid>`: the SID of the `<Application>` to connect to.
    ApplicationSid("ApplicationSid", text sid) {}
}

element! {
    /// `<WhatsApp>`: a WhatsApp user to ring, by phone number.
    WhatsApp("WhatsApp", text phone_number) {
        /// `url`: TwiML to run for the called party before the calls are connected.
        url: String = "url",
        /// `method`: HTTP method for `url`.
        method: Method = "method",
        /// `statusCallbackEvent`: the call progress events to report.
        status_callback_event: [CallEvent] = "statusCallbackEvent",
        /// `statusCallback`: URL told about the call's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twiml::{VoiceResponse, assert_documents};

    fn dial(dial: Dial) -> VoiceResponse {
        VoiceResponse::new().dial(dial)
    }

    #[test]
    fn dial_attributes_are_typed_and_sorted() {
        assert_documents([(
            dial(
                Dial::new()
                    .sequential(true)
                    .timeout(15)
                    .action("/dial-complete")
                    .caller_id("+15551230000")
                    .record(DialRecord::RecordFromAnswerDual)
                    .recording_status_callback_event([
                        RecordingEvent::InProgress,
                        RecordingEvent::Completed,
                    ])
                    .hangup_on_star(false)
                    .time_limit(600)
                    .recording_track(RecordingTrack::Inbound)
                    .trim(Trim::DoNotTrim)
                    .number("+15551234567"),
            ),
            r#"<Response><Dial action="/dial-complete" callerId="+15551230000" hangupOnStar="false" record="record-from-answer-dual" recordingStatusCallbackEvent="in-progress completed" recordingTrack="inbound" sequential="true" timeLimit="600" timeout="15" trim="do-not-trim"><Number>+15551234567</Number></Dial></Response>"#,
        )]);
    }
}
