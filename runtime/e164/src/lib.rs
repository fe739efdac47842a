//! E.164 normalisation of what callers put in `From` and `To`, shared by templates and guests.
#![deny(missing_docs)]

use std::{str::FromStr, sync::LazyLock};

use phonenumber::country;
use quick_cache::{Equivalent, Weighter, sync::Cache};

/// Longest input [`normalize`] reads, in bytes: a SIP URI is under 255 characters (SPEC 5), and
/// the user part of one that holds a phone number is far shorter.
pub const MAX_INPUT_BYTES: usize = 256;
/// Longest dialled string (the user part of a URI) that can be a phone number: E.164 has at most
/// 15 digits; a national or international prefix and formatting characters add a few.
pub const MAX_NUMBER_CHARS: usize = 40;
/// Most digits a dialled string can hold and be a phone number: 15, and up to five digits of an
/// international or national prefix (`011`, `00`, `0`).
pub const MAX_NUMBER_DIGITS: usize = 20;

/// Bytes the memo of [`normalize`] may hold, keys, answers and bookkeeping together.
pub const MEMO_BYTES: u64 = 2 << 20;
/// What one memo entry costs besides its strings (hash table slot, boxes, region).
const ENTRY_OVERHEAD: u64 = 64;

/// Normalizations already done. libphonenumber's validity check costs microseconds (it hashes
/// its long patterns on every lookup), and the same callers and numbers recur call after call.
/// Bounded in bytes, not entries: a caller chooses what it sends.
static CACHE: LazyLock<Cache<Key, Option<Box<str>>, Bytes>> = LazyLock::new(|| {
    Cache::with_weighter(
        (MEMO_BYTES / (ENTRY_OVERHEAD + 32)) as usize,
        MEMO_BYTES,
        Bytes,
    )
});

/// What the memo of [`normalize`] holds now, in bytes.
pub fn memo_bytes() -> u64 {
    CACHE.weight()
}

/// Weighs a memo entry by the bytes it holds.
#[derive(Debug, Clone, Copy)]
struct Bytes;

impl Weighter<Key, Option<Box<str>>> for Bytes {
    fn weight(&self, key: &Key, value: &Option<Box<str>>) -> u64 {
        let answer = value.as_deref().map_or(0, str::len);
        ENTRY_OVERHEAD + (key.candidate.len() + answer) as u64
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    region: Region,
    candidate: Box<str>,
}

/// A [`Key`] borrowed for lookups; derives the same hash.
#[derive(Hash)]
struct Query<'a> {
    region: Region,
    candidate: &'a str,
}

impl Equivalent<Key> for Query<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.region == key.region && self.candidate == &*key.candidate
    }
}

/// A region for reading national numbers (`US`, `GB`, ...), validated once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id);

impl std::fmt::Display for Region {
    /// The region's ISO 3166-1 alpha-2 code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

impl Default for Region {
    /// NANP, as the SIP engine assumes for bare national numbers.
    fn default() -> Self {
        Self(country::Id::US)
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        country::Id::from_str(&s.to_ascii_uppercase())
            .map(Self)
            .map_err(|_| {
                format!("unknown region {s:?}: use an ISO 3166-1 alpha-2 code such as US or GB")
            })
    }
}

/// Turns a SIP URI, `tel:` URI or dialled string into E.164 (`+15125551212`).
///
/// Returns `None` when the input is not a phone number (`sip:alice@example.com`), so callers can
/// leave it as it was. Letters are never read as keypad digits: `1-800-FLOWERS` is not a number
/// here, because a SIP user name that happens to spell one must reach its user unchanged.
///
/// Input longer than a phone number can be ([`MAX_INPUT_BYTES`], [`MAX_NUMBER_CHARS`],
/// [`MAX_NUMBER_DIGITS`]) is refused before libphonenumber reads it: a caller chooses `To`, and
/// parsing costs time in proportion to its length.
pub fn normalize(input: &str, region: Region) -> Option<String> {
    if input.len() > MAX_INPUT_BYTES {
        return None;
    }
    let candidate = user_part(input.trim());
    if candidate.len() > MAX_NUMBER_CHARS {
        return None;
    }
    let dialable = candidate
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '(' | ')' | ' '));
    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
    if !dialable || digits == 0 || digits > MAX_NUMBER_DIGITS {
        return None;
    }
    let query = Query { region, candidate };
    if let Some(known) = CACHE.get(&query) {
        return known.map(String::from);
    }
    let number = phonenumber::parse(Some(region.0), candidate)
        .ok()
        .filter(phonenumber::is_valid)
        .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
    let key = Key {
        region,
        candidate: candidate.into(),
    };
    CACHE.insert(key, number.as_deref().map(Box::from));
    number
}

/// The user part of `sip:`/`sips:`/`tel:` URIs; other input unchanged.
fn user_part(input: &str) -> &str {
    let Some((scheme, rest)) = input.split_once(':') else {
        return input;
    };
    if !["sip", "sips", "tel"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
    {
        return input;
    }
    let user = rest.split_once('@').map_or(rest, |(user, _)| user);
    // URI parameters (`;transport=tls`, `;isub=`) and headers (`?X-a=b`) are not part of the number.
    user.split([';', '?']).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_what_callers_send() {
        let us = Region::default();
        let cases = [
            (
                "sip:+15125551212@x.sip.us1.twilio.com;transport=tls",
                Some("+15125551212"),
            ),
            (
                "sip:+15125551212@x.sip.us1.twilio.com",
                Some("+15125551212"),
            ),
            ("sips:15125551212@x.sip.twilio.com", Some("+15125551212")),
            ("tel:+1-512-555-1212;ext=7", Some("+15125551212")),
            ("(512) 555-1212", Some("+15125551212")),
            ("+442071838750", Some("+442071838750")),
            ("sip:alice@example.com", None),
            ("sip:1-800-FLOWERS@example.com", None),
            ("alice", None),
            ("", None),
            ("12", None),
            ("\"/><Hangup/>", None),
        ];
        // Twice: the second round answers from the cache.
        for _ in 0..2 {
            for (input, want) in cases {
                assert_eq!(normalize(input, us).as_deref(), want, "input {input:?}");
            }
        }
    }

    #[test]
    fn what_is_longer_than_a_phone_number_is_not_one() {
        let us = Region::default();
        let long = format!("sip:+1{}@x.sip.twilio.com", "5".repeat(60_000));
        assert_eq!(normalize(&long, us), None);
        assert_eq!(normalize(&"1".repeat(21), us), None);
        let padded = format!("+1{}5125551212", " ".repeat(30));
        assert_eq!(normalize(&padded, us), None);
        // Formatting and a URI around a real number stay within the bounds.
        let formatted = "sip:+1 (512) 555-1212@pbx.sip.us1.twilio.com;transport=tls?X-a=b";
        assert_eq!(normalize(formatted, us).as_deref(), Some("+15125551212"));
        assert_eq!(
            normalize("011 44 20 7183 8750", us).as_deref(),
            Some("+442071838750")
        );
    }

    #[test]
    fn the_memo_is_bounded_in_bytes() {
        let us = Region::default();
        for n in 0..100_000u64 {
            normalize(&format!("+1512{n:07}"), us);
        }
        assert!(CACHE.weight() <= MEMO_BYTES, "{} bytes", CACHE.weight());
    }

    #[test]
    fn national_numbers_follow_the_region() {
        let gb: Region = "gb".parse().unwrap();
        assert_eq!(
            normalize("020 7183 8750", gb).as_deref(),
            Some("+442071838750")
        );
        // The same digits answer per region, cached or not.
        assert_eq!(
            normalize("2071838750", gb).as_deref(),
            Some("+442071838750")
        );
        assert_eq!(normalize("2071838750", Region::default()), None);
        assert_eq!(gb.to_string(), "GB");
        assert!("XX".parse::<Region>().is_err());
    }
}
