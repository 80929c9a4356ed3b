/// `bodyTimeout` on HTTP/2, per stream: a request whose body is not complete that long after
/// its head is cut as HTTP/1.1 cuts it (there with `408` and a close): `408` and RST_STREAM
/// NO_ERROR when no response head went out yet, RST_STREAM CANCEL when one did, RST_STREAM
/// NO_ERROR when the response is complete and only the unread rest of the body was awaited.
/// The connection and its other streams go on. Tunnels (WebSocket streams) have no deadline.
extension HTTP2ServerSession {
    /// The earliest body deadline of the open streams, nil when none waits for a body.
    var earliestBodyDeadline: UInt64? {
        var earliest: UInt64?
        for stream in streams.values where stream.bodyDeadline != 0 && !stream.requestEnded && !stream.isTunnel {
            earliest = min(earliest ?? .max, stream.bodyDeadline)
        }
        return earliest
    }

    /// Cuts the streams whose body deadline has passed.
    func expireSlowBodies(now: UInt64) {
        let expired = streams.filter { _, stream in
            stream.bodyDeadline != 0 && stream.bodyDeadline <= now && !stream.requestEnded && !stream.isTunnel
        }
        guard !expired.isEmpty else { return }
        for (id, stream) in expired.sorted(by: { $0.key < $1.key }) {
            cutShort(id, stream, status: "408")
        }
        flushAfterSend()
    }
}
