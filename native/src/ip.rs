//! IP prefixes: the derived field `ip_prefix` for the common case, without Python.

/// `_ip_prefix` of a dotted-quad IPv4 address exactly as Python's `ipaddress` reads it
/// (four decimal octets of at most three ASCII digits, no leading zeros, each at most
/// 255): its /24 network. None for anything else, which Python then answers.
pub fn ipv4_prefix(ip: &str) -> Option<String> {
    let mut octets = [0u16; 4];
    let mut count = 0;
    for part in ip.split('.') {
        if count == 4
            || part.is_empty()
            || part.len() > 3
            || !part.bytes().all(|byte| byte.is_ascii_digit())
            || (part.len() > 1 && part.starts_with('0'))
        {
            return None;
        }
        let value: u16 = part.parse().ok()?;
        if value > 255 {
            return None;
        }
        octets[count] = value;
        count += 1;
    }
    (count == 4).then(|| format!("{}.{}.{}.0/24", octets[0], octets[1], octets[2]))
}

#[cfg(test)]
mod tests {
    use super::ipv4_prefix;

    #[test]
    fn dotted_quads_get_their_slash_24() {
        // Expected values from Python's `riskstream.agents.cep.expressions._ip_prefix`.
        assert_eq!(ipv4_prefix("1.2.3.4").as_deref(), Some("1.2.3.0/24"));
        assert_eq!(
            ipv4_prefix("255.255.255.255").as_deref(),
            Some("255.255.255.0/24")
        );
        assert_eq!(ipv4_prefix("0.0.0.0").as_deref(), Some("0.0.0.0/24"));
        assert_eq!(ipv4_prefix("0.1.2.3").as_deref(), Some("0.1.2.0/24"));
    }

    #[test]
    fn anything_else_is_left_to_python() {
        for ip in [
            "01.2.3.4",
            "1.2.3.04",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            " 1.2.3.4",
            "1.2.3.4 ",
            "\u{661}.2.3.4",
            "1.2.3.4/24",
            "1.2.3.-4",
            "+1.2.3.4",
            "1.2.3.0x1",
            "::1",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "",
        ] {
            assert_eq!(ipv4_prefix(ip), None, "{ip}");
        }
    }
}
