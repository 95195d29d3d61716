//! Address scopes, and which redirects may cross them.
//!
//! A target's redirect is followed by the scanner itself, from wherever the scanner runs. A
//! public site that answers `Location: http://169.254.169.254/latest/meta-data/` (a cloud
//! metadata service) or `http://10.0.0.5/admin` would otherwise make the scanner request an
//! internal address on the attacker's behalf (server-side request forgery). So a redirect is
//! followed to a public address, or to one in the same scope as the target's own address (a
//! lab on loopback may redirect within loopback, an intranet site within the private ranges),
//! and never elsewhere. `--connect` overrides are the user's own choice and always followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Where an address leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This host: 127.0.0.0/8, ::1, and the unspecified addresses (which connect locally).
    Loopback,
    /// Private networks: RFC 1918, shared address space (100.64.0.0/10), unique local (fc00::/7).
    Private,
    /// Link-local: 169.254.0.0/16 (cloud metadata services), fe80::/10.
    LinkLocal,
    /// Multicast, broadcast and reserved ranges: never a web server.
    Special,
    /// Everything else.
    Public,
}

impl Scope {
    /// The scope of `ip` (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Self {
        let [a, b, ..] = ip.octets();
        if ip.is_loopback() || ip.is_unspecified() || a == 0 {
            Self::Loopback
        } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
            Self::Private
        } else if ip.is_link_local() {
            Self::LinkLocal
        } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
            Self::Special
        } else {
            Self::Public
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Self {
        let first = ip.segments()[0];
        if ip.is_loopback() || ip.is_unspecified() {
            Self::Loopback
        } else if first & 0xfe00 == 0xfc00 {
            Self::Private
        } else if first & 0xffc0 == 0xfe80 {
            Self::LinkLocal
        } else if ip.is_multicast() {
            Self::Special
        } else {
            Self::Public
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link-local",
            Self::Special => "reserved",
            Self::Public => "public",
        }
    }
}

/// Why a redirect from a target at `from` must not be followed to `to`, if it must not: some
/// address of `to` is neither public nor in `from`'s scope.
pub fn redirect_refusal(from: IpAddr, to: &[SocketAddr]) -> Option<String> {
    let origin = Scope::of(from);
    to.iter()
        .map(|addr| (addr, Scope::of(addr.ip())))
        .find(|(_, scope)| *scope != Scope::Public && *scope != origin)
        .map(|(addr, scope)| {
            format!(
                "redirect to {} ({} address) not followed: the target is at {from} ({})",
                addr.ip(),
                scope.name(),
                origin.name()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn to(text: &str) -> Vec<SocketAddr> {
        vec![SocketAddr::new(ip(text), 80)]
    }

    #[test]
    fn scopes() {
        for (text, scope) in [
            ("127.0.0.1", Scope::Loopback),
            ("0.0.0.0", Scope::Loopback),
            ("::1", Scope::Loopback),
            ("::ffff:127.0.0.1", Scope::Loopback),
            ("10.1.2.3", Scope::Private),
            ("172.16.0.1", Scope::Private),
            ("192.168.1.1", Scope::Private),
            ("100.64.0.1", Scope::Private),
            ("fd00::1", Scope::Private),
            ("169.254.169.254", Scope::LinkLocal),
            ("fe80::1", Scope::LinkLocal),
            ("224.0.0.1", Scope::Special),
            ("255.255.255.255", Scope::Special),
            ("93.184.216.34", Scope::Public),
            ("2001:db8::1", Scope::Public),
        ] {
            assert_eq!(Scope::of(ip(text)), scope, "{text}");
        }
    }

    #[test]
    fn redirects_may_go_public_or_stay_in_scope() {
        let public = ip("93.184.216.34");
        assert!(redirect_refusal(public, &to("198.51.100.7")).is_none());
        assert!(redirect_refusal(ip("127.0.0.1"), &to("127.0.0.2")).is_none());
        assert!(redirect_refusal(ip("10.0.0.1"), &to("192.168.0.1")).is_none());
        assert!(redirect_refusal(ip("10.0.0.1"), &to("93.184.216.34")).is_none());
        let metadata = redirect_refusal(public, &to("169.254.169.254")).unwrap();
        assert!(metadata.contains("link-local"), "{metadata}");
        assert!(redirect_refusal(public, &to("10.0.0.5")).is_some());
        assert!(redirect_refusal(public, &to("127.0.0.1")).is_some());
        assert!(redirect_refusal(ip("127.0.0.1"), &to("10.0.0.5")).is_some());
        // One internal address among public ones is enough to refuse.
        let mixed = [to("198.51.100.7"), to("10.0.0.5")].concat();
        assert!(redirect_refusal(public, &mixed).is_some());
    }
}
