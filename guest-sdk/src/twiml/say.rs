//! `<Say>` and the SSML elements that shape its speech.
//!
//! SSML elements nest as twilio allows: `<Say>`, `<lang>`, `<p>`, `<prosody>`, `<s>`,
//! `<emphasis>` and `<w>` hold text and further SSML; `<break>`, `<phoneme>`, `<say-as>` and
//! `<sub>` are leaves. Text between elements goes in with `.text(...)`.

#![expect(
    clippy::should_implement_trait,
    reason = "`sub` is the name of the SSML element it appends"
)]

use super::{BreakStrength, EmphasisLevel, InterpretAs, PhonemeAlphabet, SayAsFormat};

element! {
    /// `<Say>`: speaks its text (and SSML children) to the caller.
    Say("Say", text message) {
        /// `voice`: the voice, such as `alice`, `Polly.Joanna` or `Google.en-US-Standard-C`.
        voice: String = "voice",
        /// `loop`: how many times to speak the message; 0 repeats until the call ends.
        loop_: u32 = "loop",
        /// `language`: the language and locale, such as `en-US`.
        language: String = "language",
    }
}

element! {
    /// SSML `<break>`: a pause.
    SsmlBreak("break") {
        /// `strength`: the pause's length by strength.
        strength: BreakStrength = "strength",
        /// `time`: the pause's length, such as `500ms` or `2s`.
        time: String = "time",
    }
}

element! {
    /// SSML `<emphasis>`: words spoken with emphasis.
    SsmlEmphasis("emphasis", text words) {
        /// `level`: how strongly to emphasise.
        level: EmphasisLevel = "level",
    }
}

element! {
    /// SSML `<lang>`: words spoken in another language.
    SsmlLang("lang", text words) {
        /// `xml:lang`: the words' language, such as `fr-FR`.
        xml_lang: String = "xml:lang",
    }
}

element! {
    /// SSML `<p>`: a paragraph, followed by a pause.
    SsmlP("p", text words) {}
}

element! {
    /// SSML `<phoneme>`: words pronounced from phonetic symbols.
    SsmlPhoneme("phoneme", text words) {
        /// `alphabet`: the phonetic alphabet of `ph`.
        alphabet: PhonemeAlphabet = "alphabet",
        /// `ph`: the phonetic symbols.
        ph: String = "ph",
    }
}

element! {
    /// SSML `<prosody>`: words with another volume, rate or pitch.
    SsmlProsody("prosody", text words) {
        /// `volume`: `silent` to `x-loud`, `default`, or a change such as `+6dB`.
        volume: String = "volume",
        /// `rate`: `x-slow` to `x-fast`, or a percentage such as `80%`.
        rate: String = "rate",
        /// `pitch`: `x-low` to `x-high`, `default`, or a change such as `-10%`.
        pitch: String = "pitch",
    }
}

element! {
    /// SSML `<s>`: a sentence, followed by a pause.
    SsmlS("s", text words) {}
}

element! {
    /// SSML `<say-as>`: words read as a given kind of value (digits, date, ...).
    SsmlSayAs("say-as", text words) {
        /// `interpret-as`: the kind of value the words are.
        interpret_as: InterpretAs = "interpret-as",
        /// `format`: the date layout, when `interpret-as` is `date`.
        format: SayAsFormat = "format",
    }
}

element! {
    /// SSML `<sub>`: words read as an alias (an acronym spelled out).
    SsmlSub("sub", text words) {
        /// `alias`: what to say instead of the words.
        alias: String = "alias",
    }
}

element! {
    /// SSML `<w>`: a word pronounced as a given part of speech.
    SsmlW("w", text words) {
        /// `role`: the part of speech or meaning, such as `amazon:VB`.
        role: String = "role",
    }
}

children!(Say {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    lang: SsmlLang,
    p: SsmlP,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    s: SsmlS,
    say_as: SsmlSayAs,
    sub: SsmlSub,
    w: SsmlW,
});

children!(SsmlLang {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    lang: SsmlLang,
    p: SsmlP,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    s: SsmlS,
    say_as: SsmlSayAs,
    sub: SsmlSub,
    w: SsmlW,
});

children!(SsmlProsody {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    lang: SsmlLang,
    p: SsmlP,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    s: SsmlS,
    say_as: SsmlSayAs,
    sub: SsmlSub,
    w: SsmlW,
});

children!(SsmlP {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    lang: SsmlLang,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    s: SsmlS,
    say_as: SsmlSayAs,
    sub: SsmlSub,
    w: SsmlW,
});

children!(SsmlS {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    lang: SsmlLang,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    say_as: SsmlSayAs,
    sub: SsmlSub,
    w: SsmlW,
});

children!(SsmlEmphasis {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    lang: SsmlLang,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    say_as: SsmlSayAs,
    sub: SsmlSub,
    w: SsmlW,
});

children!(SsmlW {
    break_: SsmlBreak,
    emphasis: SsmlEmphasis,
    phoneme: SsmlPhoneme,
    prosody: SsmlProsody,
    say_as: SsmlSayAs,
    sub: SsmlSub,
});

mixed_content!(
    Say,
    SsmlEmphasis,
    SsmlLang,
    SsmlP,
    SsmlProsody,
    SsmlS,
    SsmlW
);
