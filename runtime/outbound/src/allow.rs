//! `AllowedHosts` in Spin's `allowed_outbound_hosts` form, and the check of a URL against them.
//!
//! An entry is `<scheme>://<host>[:<port>]`: scheme `http`, `https` or `*` (both); host a domain,
//! an IP address (`[::1]` for IPv6), `*.example.com` (any subdomain, not `example.com` itself) or
//! `*` (any host); port omitted (the scheme's default only), `*` (any), `N` or a half-open range
//! `A..B`. Unlike Spin there are no CIDR ranges, no `self`, no other schemes and no templates:
//! a function reaches the web, nothing else, and an entry says exactly where.
//!
//! Whether the matching entry names the host literally decides what the host may resolve to
//! (see [`Reach`]): naming `crm.internal` is a deliberate choice to reach a private service,
//! `https://*` is not.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::{Error, OutboundError};

/// Most entries one function may list.
pub const MAX_ALLOWED_HOSTS: usize = 100;
/// Longest entry, in bytes.
pub const MAX_ALLOWED_HOST_BYTES: usize = 256;

/// The accepted form, shown after every refusal.
const FORM: &str = "as in https://api.example.com or https://*.example.com:8443";

/// How a URL was allowed, which decides the addresses its request may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// An entry names this host (domain or IP address): any address it resolves to, private
    /// ones included.
    Named,
    /// Only wildcard entries match: public addresses only.
    Public,
}

/// One `AllowedHosts` entry, parsed; `Display` gives back its normalized form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemePattern {
    Only(Scheme),
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// The parent domain, without the leading `*.`.
    Subdomain(String),
    Domain(String),
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Default,
    Any,
    One(u16),
    /// Half-open, `start < end`.
    Range(u16, u16),
}

/// A URL's host, normalized the way entries are (lowercase, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Domain(String),
    Ip(IpAddr),
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl AllowedHost {
    fn matches(&self, scheme: Scheme, target: &Target, port: u16) -> bool {
        let scheme_ok = match self.scheme {
            SchemePattern::Any => true,
            SchemePattern::Only(only) => only == scheme,
        };
        let port_ok = match self.port {
            PortPattern::Default => port == scheme.default_port(),
            PortPattern::Any => true,
            PortPattern::One(one) => port == one,
            PortPattern::Range(start, end) => (start..end).contains(&port),
        };
        let host_ok = match (&self.host, target) {
            (HostPattern::Any, _) => true,
            (HostPattern::Subdomain(parent), Target::Domain(domain)) => domain
                .strip_suffix(parent.as_str())
                .and_then(|sub| sub.strip_suffix('.'))
                .is_some_and(|sub| !sub.is_empty()),
            (HostPattern::Domain(name), Target::Domain(domain)) => name == domain,
            (HostPattern::Ip(ip), Target::Ip(target)) => ip == target,
            _ => false,
        };
        scheme_ok && port_ok && host_ok
    }

    fn names_host(&self) -> bool {
        matches!(self.host, HostPattern::Domain(_) | HostPattern::Ip(_))
    }
}

impl FromStr for AllowedHost {
    type Err = Error;

    fn from_str(entry: &str) -> Result<Self, Error> {
        if entry.len() > MAX_ALLOWED_HOST_BYTES {
            let mut end = 40;
            while !entry.is_char_boundary(end) {
                end -= 1;
            }
            return Err(Error::AllowedHost {
                entry: format!("{}...", &entry[..end]),
                reason: format!("it is longer than {MAX_ALLOWED_HOST_BYTES} bytes, {FORM}"),
            });
        }
        parse_entry(entry.trim()).map_err(|reason| Error::AllowedHost {
            entry: entry.to_owned(),
            reason: format!("{reason}, {FORM}"),
        })
    }
}

/// Parses a trimmed entry; the error is the reason, without the accepted form.
fn parse_entry(entry: &str) -> Result<AllowedHost, String> {
    if entry.is_empty() {
        return Err("it is empty".into());
    }
    if entry.contains(['{', '}']) {
        return Err("lists in braces are not supported: write one entry per host".into());
    }
    let Some((scheme, rest)) = entry.split_once("://") else {
        return Err(if entry == "*" {
            "write *://*:* to allow every host and port".into()
        } else {
            "it has no scheme: write http://, https:// or *:// before the host".into()
        });
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => SchemePattern::Only(Scheme::Http),
        "https" => SchemePattern::Only(Scheme::Https),
        "*" => SchemePattern::Any,
        _ => return Err("use http:// or https://".into()),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err("credentials are not allowed: send them in the request's headers".into());
    }
    if rest.contains(['?', '#']) {
        return Err(
            "a query or fragment is not allowed: write only the scheme, host and port".into(),
        );
    }
    if rest.contains('/') {
        return Err("a path is not allowed: write only the scheme, host and port".into());
    }
    if rest.contains('%') {
        return Err("percent-encoding is not allowed in a host".into());
    }
    let (host, port) = split_host_port(rest)?;
    let host = parse_host(host)?;
    let port = match port {
        None => PortPattern::Default,
        Some(port) => parse_ports(port)?,
    };
    Ok(AllowedHost { scheme, host, port })
}

fn split_host_port(rest: &str) -> Result<(&str, Option<&str>), String> {
    if rest.starts_with('[') || rest.starts_with("*.[") {
        let Some(end) = rest.find(']') else {
            return Err("an IPv6 address must end with ]".into());
        };
        let (host, after) = rest.split_at(end + 1);
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("{after:?} after the IPv6 address is not a port")),
            },
        };
    }
    match rest.rsplit_once(':') {
        None => Ok((rest, None)),
        Some((host, _)) if host.contains(':') => {
            if rest.parse::<std::net::Ipv6Addr>().is_ok()
                || host.parse::<std::net::Ipv6Addr>().is_ok()
            {
                Err("write an IPv6 address in brackets, as in http://[2001:db8::1]".into())
            } else {
                Err(format!("{rest:?} has more than one port"))
            }
        }
        Some((host, port)) => Ok((host, Some(port))),
    }
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    if host.is_empty() {
        return Err("it has no host".into());
    }
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    let wildcard_misplaced =
        "a wildcard is allowed only as the whole host (*) or as its first label (*.example.com)";
    if let Some(parent) = host.strip_prefix("*.") {
        if parent.contains('*') {
            return Err(wildcard_misplaced.into());
        }
        return match url::Host::parse(parent) {
            Ok(url::Host::Domain(domain)) => Ok(HostPattern::Subdomain(normalize_domain(&domain)?)),
            Ok(_) => Err("*. must be followed by a domain name, not an IP address".into()),
            Err(_) => Err(format!("{parent:?} is not a valid domain name")),
        };
    }
    if host.contains('*') {
        return Err(wildcard_misplaced.into());
    }
    match url::Host::parse(host) {
        Ok(url::Host::Domain(domain)) => Ok(HostPattern::Domain(normalize_domain(&domain)?)),
        Ok(url::Host::Ipv4(ip)) => Ok(HostPattern::Ip(ip.into())),
        Ok(url::Host::Ipv6(ip)) => Ok(HostPattern::Ip(ip.into())),
        Err(_) => Err(format!("{host:?} is not a valid domain name or IP address")),
    }
}

/// A domain as `url` gives it (lowercase, punycode), without its trailing dot.
fn normalize_domain(domain: &str) -> Result<String, String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || domain.starts_with('.') || domain.contains("..") {
        return Err(format!("{domain:?} is not a valid domain name"));
    }
    Ok(domain.to_ascii_lowercase())
}

fn parse_ports(port: &str) -> Result<PortPattern, String> {
    if port == "*" {
        return Ok(PortPattern::Any);
    }
    if let Some((start, end)) = port.split_once("..") {
        let (start, end) = (parse_port(start)?, parse_port(end)?);
        if start >= end {
            return Err(format!(
                "port range {port} is empty: the end is excluded, as in 8000..9000"
            ));
        }
        return Ok(PortPattern::Range(start, end));
    }
    parse_port(port).map(PortPattern::One)
}

fn parse_port(port: &str) -> Result<u16, String> {
    let invalid = || {
        format!("port {port:?} is not a number from 1 to 65535, * or a range such as 8000..9000")
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(invalid()),
        Ok(port) => Ok(port),
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scheme {
            SchemePattern::Only(scheme) => f.write_str(scheme.name())?,
            SchemePattern::Any => f.write_str("*")?,
        }
        f.write_str("://")?;
        match &self.host {
            HostPattern::Any => f.write_str("*")?,
            HostPattern::Subdomain(parent) => write!(f, "*.{parent}")?,
            HostPattern::Domain(domain) => f.write_str(domain)?,
            HostPattern::Ip(IpAddr::V4(ip)) => write!(f, "{ip}")?,
            HostPattern::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
        }
        match self.port {
            PortPattern::Default => Ok(()),
            PortPattern::Any => f.write_str(":*"),
            PortPattern::One(port) => write!(f, ":{port}"),
            PortPattern::Range(start, end) => write!(f, ":{start}..{end}"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Domain(domain) => f.write_str(domain),
            Target::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Target::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

/// A function's `AllowedHosts`; empty denies everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    hosts: Vec<AllowedHost>,
}

impl AllowList {
    /// Parses every entry, refusing the list at the first malformed one.
    pub fn parse<I, S>(entries: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries: Vec<S> = entries.into_iter().collect();
        if entries.len() > MAX_ALLOWED_HOSTS {
            return Err(Error::TooManyAllowedHosts(entries.len()));
        }
        let hosts = entries
            .iter()
            .map(|entry| entry.as_ref().parse())
            .collect::<Result<_, _>>()?;
        Ok(Self { hosts })
    }

    /// The entries in their normalized form.
    pub fn entries(&self) -> impl Iterator<Item = String> {
        self.hosts.iter().map(ToString::to_string)
    }

    /// Whether `url` may be requested, and if so which addresses its host may resolve to.
    ///
    /// A URL some entry names literally is [`Reach::Named`] even when wildcards match it too.
    pub fn check(&self, url: &url::Url) -> Result<Reach, OutboundError> {
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => {
                return Err(OutboundError::InvalidUrl(format!(
                    "{other}:// URLs cannot be requested: use http:// or https://"
                )));
            }
        };
        let target = target(url)?;
        let port = url.port().unwrap_or(scheme.default_port());
        let mut reach = None;
        for host in self
            .hosts
            .iter()
            .filter(|h| h.matches(scheme, &target, port))
        {
            if host.names_host() {
                return Ok(Reach::Named);
            }
            reach = Some(Reach::Public);
        }
        reach.ok_or_else(|| {
            let port = match port == scheme.default_port() {
                true => String::new(),
                false => format!(":{port}"),
            };
            OutboundError::Denied {
                url: redacted(url),
                allow: format!("{}://{target}{port}", scheme.name()),
            }
        })
    }
}

fn target(url: &url::Url) -> Result<Target, OutboundError> {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.strip_suffix('.').unwrap_or(domain);
            if domain.is_empty() {
                return Err(OutboundError::InvalidUrl(format!(
                    "{url} has an empty host"
                )));
            }
            Ok(Target::Domain(domain.to_ascii_lowercase()))
        }
        Some(url::Host::Ipv4(ip)) => Ok(Target::Ip(ip.into())),
        Some(url::Host::Ipv6(ip)) => Ok(Target::Ip(ip.into())),
        None => Err(OutboundError::InvalidUrl(format!("{url} has no host"))),
    }
}

/// The URL as shown in messages and logs: no credentials, query or fragment (they may hold
/// secrets).
pub(crate) fn redacted(url: &url::Url) -> String {
    let mut url = url.clone();
    // Only fails for URLs that cannot have credentials, which have none to remove.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(entries).unwrap()
    }

    #[track_caller]
    fn reach(allow: &AllowList, url: &str) -> Option<Reach> {
        match allow.check(&url.parse().unwrap()) {
            Ok(reach) => Some(reach),
            Err(OutboundError::Denied { .. }) => None,
            Err(other) => panic!("{url}: {other}"),
        }
    }

    #[test]
    fn accepted_entries_display_their_normalized_form() {
        for (entry, normalized) in [
            ("https://api.example.com", "https://api.example.com"),
            ("https://api.example.com/", "https://api.example.com"),
            ("  https://api.example.com  ", "https://api.example.com"),
            ("HTTPS://API.Example.COM", "https://api.example.com"),
            ("https://api.example.com.", "https://api.example.com"),
            ("http://api.example.com:8080", "http://api.example.com:8080"),
            ("https://api.example.com:443", "https://api.example.com:443"),
            ("https://*.example.com:8443", "https://*.example.com:8443"),
            ("https://*.Example.com", "https://*.example.com"),
            ("http://localhost:*", "http://localhost:*"),
            (
                "http://localhost:8000..9000/",
                "http://localhost:8000..9000",
            ),
            ("*://*:*", "*://*:*"),
            ("https://*", "https://*"),
            ("*://api.example.com", "*://api.example.com"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://[::1]", "http://[::1]"),
            ("http://[0:0::1]:8080", "http://[::1]:8080"),
            ("https://[2001:DB8::1]:*", "https://[2001:db8::1]:*"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
        ] {
            let host: AllowedHost = entry.parse().unwrap_or_else(|e| panic!("{entry}: {e}"));
            assert_eq!(host.to_string(), normalized, "{entry}");
        }
    }

    #[test]
    fn refused_entries_say_what_is_wrong_and_the_accepted_form() {
        for (entry, reason) in [
            ("ftp://x", "use http:// or https://"),
            ("", "it is empty"),
            (
                "api.example.com",
                "it has no scheme: write http://, https:// or *:// before the host",
            ),
            (
                "api.example.com:443",
                "it has no scheme: write http://, https:// or *:// before the host",
            ),
            ("*", "write *://*:* to allow every host and port"),
            (
                "{http,https}://x.test",
                "lists in braces are not supported: write one entry per host",
            ),
            (
                "https://{a,b}.test",
                "lists in braces are not supported: write one entry per host",
            ),
            (
                "https://x.test:{80,443}",
                "lists in braces are not supported: write one entry per host",
            ),
            (
                "https://x.test/api",
                "a path is not allowed: write only the scheme, host and port",
            ),
            (
                "https://x.test//",
                "a path is not allowed: write only the scheme, host and port",
            ),
            (
                "https://x.test:8080/p",
                "a path is not allowed: write only the scheme, host and port",
            ),
            (
                "https://x.test?key=1",
                "a query or fragment is not allowed: write only the scheme, host and port",
            ),
            (
                "https://x.test#top",
                "a query or fragment is not allowed: write only the scheme, host and port",
            ),
            (
                "https://user:pw@x.test",
                "credentials are not allowed: send them in the request's headers",
            ),
            ("https://", "it has no host"),
            ("https://:443", "it has no host"),
            (
                "https://x%41.test",
                "percent-encoding is not allowed in a host",
            ),
            (
                "https://api.*.test",
                "a wildcard is allowed only as the whole host (*) or as its first label (*.example.com)",
            ),
            (
                "https://*api.test",
                "a wildcard is allowed only as the whole host (*) or as its first label (*.example.com)",
            ),
            (
                "https://*.*.test",
                "a wildcard is allowed only as the whole host (*) or as its first label (*.example.com)",
            ),
            (
                "https://**",
                "a wildcard is allowed only as the whole host (*) or as its first label (*.example.com)",
            ),
            (
                "https://*.127.0.0.1",
                "*. must be followed by a domain name, not an IP address",
            ),
            (
                "https://*.[::1]",
                "*. must be followed by a domain name, not an IP address",
            ),
            ("https://*.", "\"\" is not a valid domain name"),
            (
                "https://exa mple.test",
                "\"exa mple.test\" is not a valid domain name or IP address",
            ),
            (
                "https://exa\\mple.test",
                "\"exa\\\\mple.test\" is not a valid domain name or IP address",
            ),
            (
                "https://a..b.test",
                "\"a..b.test\" is not a valid domain name",
            ),
            (
                "https://::1",
                "write an IPv6 address in brackets, as in http://[2001:db8::1]",
            ),
            ("https://[::1", "an IPv6 address must end with ]"),
            (
                "https://[::1]x",
                "\"x\" after the IPv6 address is not a port",
            ),
            (
                "https://[v1.x]",
                "\"[v1.x]\" is not a valid domain name or IP address",
            ),
            (
                "https://x.test:",
                "port \"\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:http",
                "port \"http\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:+443",
                "port \"+443\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:0",
                "port \"0\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:65536",
                "port \"65536\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:8000..",
                "port \"\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:8000..70000",
                "port \"70000\" is not a number from 1 to 65535, * or a range such as 8000..9000",
            ),
            (
                "https://x.test:9000..8000",
                "port range 9000..8000 is empty: the end is excluded, as in 8000..9000",
            ),
            (
                "https://x.test:80..80",
                "port range 80..80 is empty: the end is excluded, as in 8000..9000",
            ),
            (
                "https://x.test:80:90",
                "\"x.test:80:90\" has more than one port",
            ),
            (
                "https://::1:8080",
                "write an IPv6 address in brackets, as in http://[2001:db8::1]",
            ),
        ] {
            let error = entry.parse::<AllowedHost>().expect_err(entry);
            assert_eq!(
                error.to_string(),
                format!("{entry:?} is not an allowed host: {reason}, {FORM}"),
            );
        }
    }

    #[test]
    fn an_unknown_scheme_is_refused_with_the_accepted_form() {
        assert_eq!(
            "ftp://x".parse::<AllowedHost>().unwrap_err().to_string(),
            "\"ftp://x\" is not an allowed host: use http:// or https://, \
             as in https://api.example.com or https://*.example.com:8443"
        );
    }

    #[test]
    fn an_entry_over_256_bytes_is_refused() {
        let long = format!("https://{}.test", "a".repeat(MAX_ALLOWED_HOST_BYTES));
        let error = AllowList::parse([long.as_str()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "\"{}...\" is not an allowed host: it is longer than 256 bytes, {FORM}",
                &long[..40]
            )
        );
        let fits = format!("https://{}", "a".repeat(MAX_ALLOWED_HOST_BYTES - 8));
        assert_eq!(fits.len(), MAX_ALLOWED_HOST_BYTES);
        assert!(AllowList::parse([fits]).is_ok());
    }

    #[test]
    fn more_than_100_entries_are_refused() {
        let entries: Vec<String> = (0..=MAX_ALLOWED_HOSTS)
            .map(|i| format!("https://h{i}.test"))
            .collect();
        assert_eq!(
            AllowList::parse(&entries).unwrap_err(),
            Error::TooManyAllowedHosts(101)
        );
        assert_eq!(
            AllowList::parse(&entries[..100]).unwrap().entries().count(),
            100
        );
    }

    #[test]
    fn one_bad_entry_refuses_the_list() {
        let error = AllowList::parse(["https://ok.test", "ok2.test"]).unwrap_err();
        assert_eq!(
            error,
            Error::AllowedHost {
                entry: "ok2.test".into(),
                reason: format!(
                    "it has no scheme: write http://, https:// or *:// before the host, {FORM}"
                ),
            }
        );
    }

    #[test]
    fn entries_are_listed_normalized_in_order() {
        let allow = list(&["HTTPS://B.test/", "http://[::1]:*", "*://*.a.test"]);
        assert_eq!(
            allow.entries().collect::<Vec<_>>(),
            ["https://b.test", "http://[::1]:*", "*://*.a.test"]
        );
    }

    #[test]
    fn an_empty_list_denies_everything() {
        let allow = AllowList::parse(Vec::<String>::new()).unwrap();
        assert_eq!(reach(&allow, "https://api.example.com/"), None);
        assert_eq!(reach(&allow, "http://127.0.0.1/"), None);
    }

    #[test]
    fn scheme_must_match_and_star_means_both() {
        let allow = list(&["https://api.example.com"]);
        assert_eq!(
            reach(&allow, "https://api.example.com/x"),
            Some(Reach::Named)
        );
        assert_eq!(reach(&allow, "http://api.example.com/x"), None);
        let both = list(&["*://api.example.com"]);
        assert_eq!(reach(&both, "https://api.example.com/"), Some(Reach::Named));
        assert_eq!(reach(&both, "http://api.example.com/"), Some(Reach::Named));
    }

    #[test]
    fn an_omitted_port_allows_the_schemes_default_only() {
        let allow = list(&["https://api.example.com", "*://both.example.com"]);
        assert_eq!(
            reach(&allow, "https://api.example.com:443/"),
            Some(Reach::Named)
        );
        assert_eq!(reach(&allow, "https://api.example.com:8443/"), None);
        assert_eq!(
            reach(&allow, "http://both.example.com/"),
            Some(Reach::Named)
        );
        assert_eq!(
            reach(&allow, "https://both.example.com/"),
            Some(Reach::Named)
        );
        assert_eq!(reach(&allow, "http://both.example.com:443/"), None);
        assert_eq!(reach(&allow, "https://both.example.com:80/"), None);
    }

    #[test]
    fn star_port_allows_any_port_and_a_number_exactly_that_one() {
        let allow = list(&["http://any.test:*", "http://one.test:8080"]);
        for port in [1, 80, 443, 8080, 65535] {
            assert_eq!(
                reach(&allow, &format!("http://any.test:{port}/")),
                Some(Reach::Named)
            );
        }
        assert_eq!(reach(&allow, "http://one.test:8080/"), Some(Reach::Named));
        assert_eq!(reach(&allow, "http://one.test/"), None);
        assert_eq!(reach(&allow, "http://one.test:8081/"), None);
    }

    #[test]
    fn a_port_range_is_half_open() {
        let allow = list(&["http://r.test:8000..8003"]);
        assert_eq!(reach(&allow, "http://r.test:7999/"), None);
        assert_eq!(reach(&allow, "http://r.test:8000/"), Some(Reach::Named));
        assert_eq!(reach(&allow, "http://r.test:8002/"), Some(Reach::Named));
        assert_eq!(reach(&allow, "http://r.test:8003/"), None);
    }

    #[test]
    fn a_subdomain_wildcard_matches_subdomains_but_not_the_apex() {
        let allow = list(&["https://*.example.com"]);
        assert_eq!(
            reach(&allow, "https://api.example.com/"),
            Some(Reach::Public)
        );
        assert_eq!(
            reach(&allow, "https://a.b.example.com/"),
            Some(Reach::Public)
        );
        assert_eq!(reach(&allow, "https://example.com/"), None);
        assert_eq!(reach(&allow, "https://badexample.com/"), None);
        assert_eq!(reach(&allow, "https://example.com.evil.test/"), None);
    }

    #[test]
    fn a_star_host_matches_any_host_as_public() {
        let allow = list(&["https://*"]);
        assert_eq!(reach(&allow, "https://anything.test/"), Some(Reach::Public));
        assert_eq!(reach(&allow, "https://10.0.0.1/"), Some(Reach::Public));
        assert_eq!(reach(&allow, "https://[::1]/"), Some(Reach::Public));
        assert_eq!(reach(&allow, "http://anything.test/"), None);
    }

    #[test]
    fn a_named_entry_wins_over_a_wildcard() {
        let allow = list(&["*://*:*", "http://crm.internal:8080"]);
        assert_eq!(
            reach(&allow, "http://crm.internal:8080/"),
            Some(Reach::Named)
        );
        assert_eq!(
            reach(&allow, "http://crm.internal:8081/"),
            Some(Reach::Public)
        );
    }

    #[test]
    fn ip_literals_match_by_address() {
        let allow = list(&["http://[::1]:*", "http://127.0.0.1:8080"]);
        assert_eq!(reach(&allow, "http://[::1]:9000/"), Some(Reach::Named));
        assert_eq!(
            reach(&allow, "http://[0:0:0:0:0:0:0:1]/"),
            Some(Reach::Named)
        );
        assert_eq!(reach(&allow, "http://[::2]/"), None);
        assert_eq!(reach(&allow, "http://127.0.0.1:8080/"), Some(Reach::Named));
        // The same address written as a number is the same host.
        assert_eq!(reach(&allow, "http://2130706433:8080/"), Some(Reach::Named));
        assert_eq!(reach(&allow, "http://127.0.0.2:8080/"), None);
    }

    #[test]
    fn hosts_match_case_insensitively_and_without_the_trailing_dot() {
        let allow = list(&["https://API.Example.com", "https://*.Wild.test."]);
        assert_eq!(
            reach(&allow, "https://api.EXAMPLE.com/"),
            Some(Reach::Named)
        );
        assert_eq!(
            reach(&allow, "https://api.example.com./"),
            Some(Reach::Named)
        );
        assert_eq!(reach(&allow, "https://X.WILD.TEST./"), Some(Reach::Public));
    }

    #[test]
    fn a_denial_says_which_entry_to_add() {
        let allow = list(&["https://other.test"]);
        let denied = allow
            .check(&"https://api.crm.test:8443/x".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "https://api.crm.test:8443/x is not an allowed host of this function: \
             allow https://api.crm.test:8443 (AllowedHosts)"
        );
        let denied = allow
            .check(&"http://user:secret@API.test./p?token=1#f".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            denied,
            OutboundError::Denied {
                url: "http://api.test./p".into(),
                allow: "http://api.test".into(),
            }
        );
        let denied = allow
            .check(&"https://[::1]:443/".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "https://[::1]/ is not an allowed host of this function: \
             allow https://[::1] (AllowedHosts)"
        );
    }

    #[test]
    fn only_http_and_https_urls_are_checked() {
        let allow = list(&["*://*:*"]);
        for url in ["ftp://x.test/", "file:///etc/passwd", "ws://x.test/"] {
            let scheme = url.split_once(':').unwrap().0;
            assert_eq!(
                allow.check(&url.parse().unwrap()),
                Err(OutboundError::InvalidUrl(format!(
                    "{scheme}:// URLs cannot be requested: use http:// or https://"
                ))),
            );
        }
    }
}
