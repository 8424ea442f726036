//! Ports for servers Tally starts.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A port that nothing listens on right now, chosen by the kernel.
///
/// The port is released before this returns, so another process could take it before the server
/// binds it; a server that then fails to bind exits, and the launch reports its log.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether a server could bind `port` on every interface.
///
/// Checked before a launch because a health check on a taken port would reach whatever already
/// listens there and report the new server healthy.
pub fn port_is_free(port: u16) -> bool {
    [Ipv4Addr::UNSPECIFIED, Ipv4Addr::LOCALHOST]
        .into_iter()
        .all(|ip| TcpListener::bind(SocketAddr::from((ip, port))).is_ok())
}

/// Whether a server listens on `port` on localhost (a connection is accepted within a second).
///
/// Binding can fail for a moment after a server on the port died (its connections still
/// closing) with nothing listening; only a listener would answer a health check.
pub fn port_is_listened(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_is_free_and_a_bound_one_is_not() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        assert!(port_is_free(port));
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(!port_is_free(port));
        assert!(port_is_listened(port));
        drop(held);
        assert!(!port_is_listened(port));
    }
}
