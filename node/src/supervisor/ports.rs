//! Port choice for a new server process.
//!
//! A process gets a port from its fleet's range (`FleetSpec::ports()`) that no other process on
//! this node holds (fleets may share a range, so all of this node's processes count) and that
//! can be bound right now, on TCP and UDP, on every interface. The search starts at a cursor and
//! wraps, so a port that a process just released is not handed out again at once (a late
//! client of the old game must not reach the new one); the supervisor starts each fleet's cursor
//! at a random offset, which also keeps two nodes on one host from picking the same ports.

use std::collections::BTreeSet;

use crate::fsm::hosting::PortRange;

/// The first port at or after `cursor` (wrapping within `range`) that is not in `used` and
/// for which `is_free` holds. `cursor` outside the range starts at `from_port`.
pub fn choose_port(
    range: PortRange,
    used: &BTreeSet<u16>,
    cursor: u16,
    mut is_free: impl FnMut(u16) -> bool,
) -> Option<u16> {
    if range.from_port > range.to_port {
        return None;
    }
    let start = if (range.from_port..=range.to_port).contains(&cursor) {
        cursor
    } else {
        range.from_port
    };
    (start..=range.to_port)
        .chain(range.from_port..start)
        .find(|p| !used.contains(p) && is_free(*p))
}

/// The cursor after handing out `port`.
pub fn next_cursor(range: PortRange, port: u16) -> u16 {
    if port >= range.to_port {
        range.from_port
    } else {
        port + 1
    }
}

/// Whether `port` can be bound now on all interfaces, TCP and UDP (game servers use either).
pub fn bindable(port: u16) -> bool {
    use std::net::{Ipv4Addr, TcpListener, UdpSocket};
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
        && UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: PortRange = PortRange {
        from_port: 7000,
        to_port: 7004,
    };

    #[test]
    fn skips_used_and_unbindable_ports_and_wraps() {
        let used: BTreeSet<u16> = [7000, 7001].into();
        assert_eq!(choose_port(R, &used, 7000, |_| true), Some(7002));
        assert_eq!(choose_port(R, &used, 7003, |p| p != 7003), Some(7004));
        assert_eq!(choose_port(R, &used, 7004, |p| p != 7004), Some(7002));
        assert_eq!(choose_port(R, &used, 1, |_| true), Some(7002));
        let all: BTreeSet<u16> = (7000..=7004).collect();
        assert_eq!(choose_port(R, &all, 7000, |_| true), None);
        assert_eq!(choose_port(R, &BTreeSet::new(), 7000, |_| false), None);
    }

    #[test]
    fn cursor_moves_past_the_port_and_wraps() {
        assert_eq!(next_cursor(R, 7002), 7003);
        assert_eq!(next_cursor(R, 7004), 7000);
        let one = PortRange {
            from_port: 9000,
            to_port: 9000,
        };
        assert_eq!(
            choose_port(one, &BTreeSet::new(), 9000, |_| true),
            Some(9000)
        );
        assert_eq!(next_cursor(one, 9000), 9000);
    }

    #[test]
    fn a_bound_port_is_not_bindable() {
        let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(!bindable(port));
        drop(l);
    }
}
