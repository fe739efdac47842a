//! E.164 normalisation of what callers put in `From` and `To`, shared by templates and guests.

use std::{str::FromStr, sync::LazyLock};

use phonenumber::country;
use quick_cache::{Equivalent, sync::Cache};

/// Numbers remembered by [`normalize`].
const CACHE_ENTRIES: usize = 16 * 1024;

/// Normalizations already done. libphonenumber's validity check costs microseconds (it hashes
/// its long patterns on every lookup), and the same callers and numbers recur call after call.
static CACHE: LazyLock<Cache<Key, Option<Box<str>>>> = LazyLock::new(|| Cache::new(CACHE_ENTRIES));

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
pub fn normalize(input: &str, region: Region) -> Option<String> {
    let candidate = user_part(input.trim());
    let dialable = candidate
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '(' | ')' | ' '));
    if candidate.is_empty() || !dialable || !candidate.chars().any(|c| c.is_ascii_digit()) {
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
