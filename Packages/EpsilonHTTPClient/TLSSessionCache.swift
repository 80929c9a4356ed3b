import EpsilonTLS
import Synchronization

/// The newest resumable TLS session of each origin, offered on the next connection to it, so
/// a pool's later connections resume instead of running full handshakes.
///
/// The transport reports each session the server issues (``TLSOptions/sessionHandler``);
/// the newest replaces the one before (TLS 1.3 tickets are meant to be used once, RFC 8446
/// §C.4). Bounded: past `limit` origins the cache starts over.
final class TLSSessionCache: Sendable {
    private let sessions = Mutex<[ClientOrigin: TLSSession]>([:])
    private let limit: Int

    init(limit: Int = 256) { self.limit = limit }

    /// The session to offer to `origin`, if one is known.
    func session(for origin: ClientOrigin) -> TLSSession? {
        sessions.withLock { $0[origin] }
    }

    /// Keeps `session` as `origin`'s newest (a session that cannot resume is dropped).
    func store(_ session: TLSSession, for origin: ClientOrigin) {
        guard session.isResumable else { return }
        sessions.withLock { sessions in
            if sessions[origin] == nil && sessions.count >= limit { sessions.removeAll(keepingCapacity: true) }
            sessions[origin] = session
        }
    }
}
