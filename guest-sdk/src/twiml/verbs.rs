//! The verbs that play, gather, record, redirect and end a call, with their nouns.

use super::{
    BankAccountType, CardType, GatherInput, Method, PayInput, PaymentMethod, PromptErrorType,
    PromptFor, RecordingEvent, RejectReason, Say, TokenType, Trim,
};

element! {
    /// `<Play>`: plays an audio file, or DTMF tones with `digits`.
    Play("Play", text url) {
        /// `loop`: how many times to play; 0 repeats until the call ends.
        loop_: u32 = "loop",
        /// `digits`: DTMF tones to play (`w` waits half a second).
        digits: String = "digits",
    }
}

element! {
    /// `<Pause>`: waits in silence.
    Pause("Pause") {
        /// `length`: seconds to wait (default 1).
        length: u32 = "length",
    }
}

element! {
    /// `<Gather>`: collects digits or speech while its `<Say>`/`<Play>`/`<Pause>` run.
    Gather("Gather") {
        /// `input`: what to accept (`dtmf`, `speech`, or both).
        input: [GatherInput] = "input",
        /// `action`: URL to send the result to.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
        /// `timeout`: seconds of silence before the gather ends.
        timeout: u32 = "timeout",
        /// `speechTimeout`: seconds of silence that end speech input, or `auto`.
        speech_timeout: String = "speechTimeout",
        /// `maxSpeechTime`: most seconds of speech to accept.
        max_speech_time: u32 = "maxSpeechTime",
        /// `profanityFilter`: whether to mask profanities in the transcript.
        profanity_filter: bool = "profanityFilter",
        /// `finishOnKey`: the key that ends digit input (empty for none).
        finish_on_key: String = "finishOnKey",
        /// `numDigits`: how many digits to collect.
        num_digits: u32 = "numDigits",
        /// `partialResultCallback`: URL to send partial speech results to.
        partial_result_callback: String = "partialResultCallback",
        /// `partialResultCallbackMethod`: HTTP method for `partialResultCallback`.
        partial_result_callback_method: Method = "partialResultCallbackMethod",
        /// `language`: the speech's language, such as `en-US`.
        language: String = "language",
        /// `hints`: comma-separated words or phrases likely to be spoken.
        hints: String = "hints",
        /// `bargeIn`: whether input stops the nested `<Say>`/`<Play>`.
        barge_in: bool = "bargeIn",
        /// `debug`: whether to send debugging information.
        debug: bool = "debug",
        /// `actionOnEmptyResult`: whether to call `action` even without input.
        action_on_empty_result: bool = "actionOnEmptyResult",
        /// `speechModel`: the recognition model, such as `phone_call`.
        speech_model: String = "speechModel",
        /// `enhanced`: whether to use the enhanced speech model.
        enhanced: bool = "enhanced",
    }
}

children!(Gather {
    say: Say,
    play: Play,
    pause: Pause,
});

element! {
    /// `<Record>`: records the caller.
    Record("Record") {
        /// `action`: URL to request when recording ends.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
        /// `timeout`: seconds of silence that end the recording.
        timeout: u32 = "timeout",
        /// `finishOnKey`: keys that end the recording.
        finish_on_key: String = "finishOnKey",
        /// `maxLength`: most seconds to record.
        max_length: u32 = "maxLength",
        /// `playBeep`: whether to beep before recording.
        play_beep: bool = "playBeep",
        /// `trim`: whether to trim silence.
        trim: Trim = "trim",
        /// `recordingStatusCallback`: URL told about the recording's progress.
        recording_status_callback: String = "recordingStatusCallback",
        /// `recordingStatusCallbackMethod`: HTTP method for `recordingStatusCallback`.
        recording_status_callback_method: Method = "recordingStatusCallbackMethod",
        /// `recordingStatusCallbackEvent`: the recording events to report.
        recording_status_callback_event: [RecordingEvent] = "recordingStatusCallbackEvent",
        /// `transcribe`: whether to transcribe the recording.
        transcribe: bool = "transcribe",
        /// `transcribeCallback`: URL to send the transcription to.
        transcribe_callback: String = "transcribeCallback",
        /// `recordingConfigurationId`: the recording configuration to apply.
        recording_configuration_id: String = "recordingConfigurationId",
    }
}

element! {
    /// `<Redirect>`: continues the call with the TwiML at a URL.
    Redirect("Redirect", text url) {
        /// `method`: HTTP method for the URL.
        method: Method = "method",
    }
}

element! {
    /// `<Hangup>`: ends the call.
    Hangup("Hangup") {}
}

children!(Hangup {
    parameter: Parameter,
});

element! {
    /// `<Reject>`: refuses the call without answering it.
    Reject("Reject") {
        /// `reason`: the busy or rejected signal to play.
        reason: RejectReason = "reason",
    }
}

children!(Reject {
    parameter: Parameter,
});

element! {
    /// `<Leave>`: takes the caller out of a queue.
    Leave("Leave") {}
}

element! {
    /// `<Echo>`: plays the caller's audio back (for testing).
    Echo("Echo") {}
}

element! {
    /// `<Sms>`: sends a text message during the call.
    Sms("Sms", text message) {
        /// `to`: the recipient's number.
        to: String = "to",
        /// `from`: the sender's number.
        from_: String = "from",
        /// `action`: URL to request once the message is sent.
        action: String = "action",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
        /// `statusCallback`: URL told about the message's status.
        status_callback: String = "statusCallback",
    }
}

element! {
    /// `<Enqueue>`: puts the caller in the named queue.
    Enqueue("Enqueue", text name) {
        /// `action`: URL to request when the caller leaves the queue.
        action: String = "action",
        /// `maxQueueSize`: most callers the queue may hold.
        max_queue_size: u32 = "maxQueueSize",
        /// `method`: HTTP method for `action`.
        method: Method = "method",
        /// `waitUrl`: TwiML to play while the caller waits.
        wait_url: String = "waitUrl",
        /// `waitUrlMethod`: HTTP method for `waitUrl`.
        wait_url_method: Method = "waitUrlMethod",
        /// `workflowSid`: the TaskRouter workflow to enqueue into.
        workflow_sid: String = "workflowSid",
    }
}

children!(Enqueue { task: Task });

element! {
    /// `<Task>`: the TaskRouter task attributes (JSON) of an `<Enqueue>`.
    Task("Task", text body) {
        /// `priority`: the task's priority.
        priority: u32 = "priority",
        /// `timeout`: seconds before the task is cancelled.
        timeout: u32 = "timeout",
    }
}

element! {
    /// `<Pay>`: collects a payment.
    Pay("Pay") {
        /// `input`: how the caller enters payment details.
        input: PayInput = "input",
        /// `action`: URL to send the result to.
        action: String = "action",
        /// `bankAccountType`: the account type of an ACH payment.
        bank_account_type: BankAccountType = "bankAccountType",
        /// `statusCallback`: URL told about the payment's progress.
        status_callback: String = "statusCallback",
        /// `statusCallbackMethod`: HTTP method for `statusCallback`.
        status_callback_method: Method = "statusCallbackMethod",
        /// `timeout`: seconds to wait for each input.
        timeout: u32 = "timeout",
        /// `maxAttempts`: how many tries the caller gets.
        max_attempts: u32 = "maxAttempts",
        /// `securityCode`: whether to ask for the card's security code.
        security_code: bool = "securityCode",
        /// `postalCode`: `true`/`false` to ask for it, or the postal code to use.
        postal_code: String = "postalCode",
        /// `minPostalCodeLength`: fewest characters of a postal code.
        min_postal_code_length: u32 = "minPostalCodeLength",
        /// `paymentConnector`: the payment connector's unique name.
        payment_connector: String = "paymentConnector",
        /// `paymentMethod`: card or ACH debit.
        payment_method: PaymentMethod = "paymentMethod",
        /// `tokenType`: the kind of token to create.
        token_type: TokenType = "tokenType",
        /// `chargeAmount`: the amount to charge, such as `10.00`; none creates a token.
        charge_amount: String = "chargeAmount",
        /// `currency`: the amount's currency, such as `usd`.
        currency: String = "currency",
        /// `description`: a description of the payment.
        description: String = "description",
        /// `validCardTypes`: the card brands accepted.
        valid_card_types: [CardType] = "validCardTypes",
        /// `language`: the prompts' language, such as `en-US`.
        language: String = "language",
    }
}

children!(Pay {
    prompt: Prompt,
    parameter: Parameter,
});

element! {
    /// `<Prompt>`: replaces one of `<Pay>`'s spoken prompts.
    Prompt("Prompt") {
        /// `for`: the payment step the prompt is for.
        for_: PromptFor = "for",
        /// `errorType`: the errors the prompt answers.
        error_type: [PromptErrorType] = "errorType",
        /// `cardType`: the card brands the prompt is for.
        card_type: [CardType] = "cardType",
        /// `attempt`: the attempts the prompt is for.
        attempt: [u32] = "attempt",
        /// `requireMatchingInputs`: whether the caller must enter the value twice.
        require_matching_inputs: bool = "requireMatchingInputs",
    }
}

children!(Prompt {
    say: Say,
    play: Play,
    pause: Pause,
});

element! {
    /// `<Parameter>`: a custom name and value passed on to a noun's webhook or stream.
    Parameter("Parameter", custom) {
        /// `name`: the parameter's name.
        name: String = "name",
        /// `value`: the parameter's value.
        value: String = "value",
    }
}

element! {
    /// `<Config>`: a configuration name and value for a `<VirtualAgent>` or `<Transcription>`.
    Config("Config", custom) {
        /// `name`: the setting's name.
        name: String = "name",
        /// `value`: the setting's value.
        value: String = "value",
    }
}

name_value!(Parameter("Parameter"), Config("Config"));
