//! Which IP addresses a request matched only by a wildcard may reach.
//!
//! Anything that is not plainly a host on the public internet is refused: a function allowed
//! `https://*` must not be able to reach the edge's own loopback, the cloud metadata service
//! (169.254.169.254), the provider's private network or a multicast group. IPv6 forms that carry
//! an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the address they carry, so
//! `[::ffff:127.0.0.1]` is as private as `127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// True when `ip` is a public unicast address, one a wildcard-matched request may connect to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let private = a == 0 // "this network", 0.0.0.0 unspecified included
        || a == 10 // RFC 1918
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 192 && b == 0 && c == 2) // documentation TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168) // RFC 1918
        || (a == 198 && (18..20).contains(&b)) // benchmarking 198.18.0.0/15
        || (a == 198 && b == 51 && c == 100) // documentation TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // documentation TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4 and broadcast 255.255.255.255
    !private
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; :: and ::1 are in it) reach
    // the IPv4 address or nothing: judge that address, and never let a compatible one through.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0; 6] {
        return false;
    }
    // ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765): only meaningful inside a translator.
    if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        return false;
    }
    // 64:ff9b::/96, well-known NAT64 prefix: the gateway forwards to the embedded IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    // 2002::/16, 6to4: the embedded IPv4 address is the tunnel's other end.
    if s[0] == 0x2002 {
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    let private = s[0] & 0xfe00 == 0xfc00 // unique local fc00::/7
        || s[0] & 0xffc0 == 0xfe80 // link-local fe80::/10
        || s[0] & 0xffc0 == 0xfec0 // site-local fec0::/10 (deprecated)
        || s[0] & 0xff00 == 0xff00 // multicast ff00::/8
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || (s[0] == 0x100 && s[1..4] == [0; 3]) // discard-only 100::/64
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x3fff && s[1] & 0xf000 == 0) // documentation 3fff::/20
        || s[0] & 0xe000 != 0x2000; // outside 2000::/3, the only global unicast space assigned
    !private
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(cases: &[(&str, bool)]) {
        for (address, public) in cases {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(is_public(ip), *public, "is_public({address})");
        }
    }

    #[test]
    fn ipv4_private_ranges_are_not_public_and_their_neighbours_are() {
        check(&[
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("1.0.0.0", true),
            ("9.255.255.255", true),
            ("10.0.0.0", false),
            ("10.255.255.255", false),
            ("11.0.0.0", true),
            ("100.63.255.255", true),
            ("100.64.0.0", false),
            ("100.127.255.255", false),
            ("100.128.0.0", true),
            ("126.255.255.255", true),
            ("127.0.0.1", false),
            ("127.255.255.254", false),
            ("128.0.0.0", true),
            ("169.253.255.255", true),
            ("169.254.169.254", false),
            ("169.255.0.0", true),
            ("172.15.255.255", true),
            ("172.16.0.0", false),
            ("172.31.255.255", false),
            ("172.32.0.0", true),
            ("192.0.0.1", false),
            ("192.0.1.0", true),
            ("192.0.2.1", false),
            ("192.0.3.0", true),
            ("192.88.99.1", false),
            ("192.167.255.255", true),
            ("192.168.0.1", false),
            ("192.168.255.255", false),
            ("192.169.0.0", true),
            ("198.17.255.255", true),
            ("198.18.0.0", false),
            ("198.19.255.255", false),
            ("198.20.0.0", true),
            ("198.51.100.7", false),
            ("203.0.113.7", false),
            ("203.0.114.0", true),
            ("223.255.255.255", true),
            ("224.0.0.1", false),
            ("239.255.255.250", false),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            ("8.8.8.8", true),
            ("93.184.216.34", true),
        ]);
    }

    #[test]
    fn ipv6_private_ranges_are_not_public() {
        check(&[
            ("::", false),
            ("::1", false),
            ("fc00::1", false),
            ("fdff:ffff::1", false),
            ("fe80::1", false),
            ("febf::1", false),
            ("fec0::1", false),
            ("ff02::1", false),
            ("ff0e::1", false),
            ("2001:db8::1", false),
            ("2001:db8:ffff::1", false),
            ("3fff::1", false),
            ("3fff:fff::1", false),
            ("100::1", false),
            ("64:ff9b:1::1", false),
            ("4000::1", false),
            ("::2:0:0:1", false),
        ]);
    }

    #[test]
    fn ipv6_public_unicast_is_public() {
        check(&[
            ("2001:4860:4860::8888", true),
            ("2606:4700:4700::1111", true),
            ("2001:db9::1", true),
            ("2a00:1450:4001::1", true),
            ("2c0f:fb50::1", true),
            ("3fff:1000::1", true),
            ("2001:db7:ffff::1", true),
        ]);
    }

    #[test]
    fn ipv6_forms_carrying_ipv4_are_judged_by_the_ipv4_address() {
        check(&[
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.1.2.3", false),
            ("::ffff:169.254.169.254", false),
            ("::ffff:192.168.1.1", false),
            ("::ffff:100.64.0.1", false),
            ("::ffff:0.0.0.0", false),
            ("::ffff:255.255.255.255", false),
            ("::ffff:8.8.8.8", true),
            // IPv4-compatible addresses are deprecated: none is public, whatever it carries.
            ("::127.0.0.1", false),
            ("::10.0.0.1", false),
            ("::8.8.8.8", false),
            ("::ffff:0:127.0.0.1", false),
            ("::ffff:0:8.8.8.8", false),
            ("64:ff9b::127.0.0.1", false),
            ("64:ff9b::10.0.0.1", false),
            ("64:ff9b::8.8.8.8", true),
            ("2002:7f00:1::1", false),
            ("2002:a9fe:a9fe::1", false),
            ("2002:808:808::1", true),
        ]);
    }
}
