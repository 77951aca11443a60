//! Which hosts a request may name (`Host`, or the authority of an absolute-form target):
//! the DNS-rebinding defence. A rebinding page reaches Runboard's socket under the
//! attacker's own name, so refusing every name but ours leaves it no answer to read and
//! no run to start.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::{HeaderMap, Uri, header};

use crate::{AppError, Config};

/// Whether a request naming these hosts is Runboard's to answer: with `public_url`, it
/// must name that host (and name one); without, every host it names must be local. A
/// request naming none is no browser's (browsers always send `Host`), so only
/// `public_url` turns it away. The refusal says which hosts are served.
pub(crate) fn check(config: &Config, uri: &Uri, headers: &HeaderMap) -> Result<(), AppError> {
    let named = named(uri, headers);
    let (ours, expected) = match (&config.public_url, config.public_authority()) {
        (Some(public), Some(expected)) => {
            let scheme = public.scheme();
            let ours = named.is_some_and(|named| {
                !named.is_empty() && named.iter().all(|n| is_public(n, &expected, scheme))
            });
            (ours, expected)
        }
        _ => {
            let ours = named.is_some_and(|named| named.iter().all(|n| is_local(n, config.listen)));
            (ours, local_names(config.listen))
        }
    };
    if ours {
        Ok(())
    } else {
        Err(AppError::Misdirected(expected))
    }
}

/// Every host the request names: the target's authority and the `Host` header, each
/// when present. `None` when `Host` appears more than once: a front proxy and Runboard
/// might each read a different copy.
fn named(uri: &Uri, headers: &HeaderMap) -> Option<Vec<String>> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return None;
    }
    let host = match host.map(|value| value.to_str()) {
        Some(Ok(text)) => Some(text.to_owned()),
        // A Host that is not text names no host of ours.
        Some(Err(_)) => Some(String::new()),
        None => None,
    };
    Some(
        uri.authority()
            .map(|a| a.as_str().to_owned())
            .into_iter()
            .chain(host)
            .collect(),
    )
}

/// Whether `named` (a `Host` value) is `expected` (`public_url`'s authority), ignoring
/// case and the scheme's default port.
fn is_public(named: &str, expected: &str, scheme: &str) -> bool {
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let named = named.to_ascii_lowercase();
    let named = named.strip_suffix(default_port).unwrap_or(&named);
    named == expected
}

/// Without `public_url`: whether `named` is a loopback name or address (any port) or,
/// when Runboard listens on one specific address, exactly that address and port. An
/// unspecified listen address (`0.0.0.0`, `[::]`) adds nothing: which of the machine's
/// addresses are meant for people is for `public_url` to say.
fn is_local(named: &str, listen: SocketAddr) -> bool {
    let Some((host, port)) = split(named) else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let Some(ip) = ip_literal(&host) else {
        return false;
    };
    if ip.to_canonical().is_loopback() {
        return true;
    }
    let listen_ip = listen.ip().to_canonical();
    !listen_ip.is_unspecified()
        && ip.to_canonical() == listen_ip
        && port.unwrap_or(80) == listen.port()
}

/// The hosts [`is_local`] accepts, in words for the 421 answer.
pub(crate) fn local_names(listen: SocketAddr) -> String {
    let ip = listen.ip().to_canonical();
    if ip.is_unspecified() || ip.is_loopback() {
        "localhost, 127.0.0.1 or [::1]".to_owned()
    } else {
        format!("localhost, 127.0.0.1, [::1] or {listen}")
    }
}

/// `host[:port]` split, the port checked as a number; `None` when it is not that shape.
fn split(named: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = named.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        (&named[..inner.len() + 2], after)
    } else {
        match named.rsplit_once(':') {
            Some((host, _)) => (host, &named[host.len()..]),
            None => (named, ""),
        }
    };
    let port = match port.strip_prefix(':') {
        Some(digits) => Some(digits.parse().ok()?),
        None if port.is_empty() => None,
        None => return None,
    };
    (!host.is_empty()).then_some((host, port))
}

/// An address as browsers write it in `Host`: dotted IPv4, or IPv6 in brackets. Other
/// spellings (`2130706433`, `0x7f.1`) are not what a browser sends, and are no literal.
fn ip_literal(host: &str) -> Option<IpAddr> {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        None => host.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(named: &str, listen: &str, expected: bool) {
        let listen: SocketAddr = listen.parse().unwrap();
        assert_eq!(is_local(named, listen), expected, "{named} on {listen}");
    }

    #[test]
    fn loopback_names_and_the_listen_address_are_local() {
        for named in [
            "localhost",
            "LOCALHOST:8080",
            "runboard.localhost:3000",
            "127.0.0.1",
            "127.0.0.1:9",
            "127.1.2.3:8080",
            "[::1]",
            "[::1]:8080",
            "[::ffff:127.0.0.1]:8080",
        ] {
            check(named, "127.0.0.1:8080", true);
            check(named, "0.0.0.0:8080", true);
            check(named, "192.0.2.10:8080", true);
        }
        check("192.0.2.10:8080", "192.0.2.10:8080", true);
        check("192.0.2.10", "192.0.2.10:80", true);
        check("[2001:db8::1]:8080", "[2001:db8::1]:8080", true);
    }

    #[test]
    fn every_other_name_is_foreign() {
        for named in [
            "rebind.attacker.example",
            "rebind.attacker.example:8080",
            "localhost.attacker.example",
            "127.0.0.1.attacker.example",
            "attacker.example:127.0.0.1",
            "192.0.2.10:8080",
            "2130706433",
            "0x7f.0.0.1",
            "localhost:",
            "localhost:99999",
            "localhost:80:80",
            "[::1",
            "[::1]x",
            "",
            ":8080",
        ] {
            check(named, "127.0.0.1:8080", false);
            check(named, "0.0.0.0:8080", false);
        }
        check("192.0.2.10:8081", "192.0.2.10:8080", false);
        check("192.0.2.11:8080", "192.0.2.10:8080", false);
        check("192.0.2.10", "192.0.2.10:8080", false);
    }

    #[test]
    fn two_host_headers_name_nothing_and_the_target_counts_too() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "localhost".parse().unwrap());
        let absolute: Uri = "http://evil.example.net/x".parse().unwrap();
        assert_eq!(
            named(&absolute, &headers).unwrap(),
            ["evil.example.net", "localhost"]
        );
        assert!(
            named(&"/x".parse().unwrap(), &HeaderMap::new())
                .unwrap()
                .is_empty()
        );
        headers.append(header::HOST, "localhost".parse().unwrap());
        assert_eq!(named(&"/x".parse().unwrap(), &headers), None);
    }
}
