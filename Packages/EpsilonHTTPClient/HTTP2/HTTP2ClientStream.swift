import HTTPTypes
import Synchronization

/// One request's stream on an ``HTTP2ClientConnection``, as the request task and the response
/// body see it, with its own deadlines (kept by the connection: a timeout resets this stream,
/// not the connection).
final class HTTP2ClientStream: Sendable {
    let connection: HTTP2ClientConnection
    let id: UInt32
    private let released = Atomic(false)

    init(connection: HTTP2ClientConnection, id: UInt32) {
        self.connection = connection
        self.id = id
    }

    /// The stream's deadlines (time to the head, body silence, the whole request).
    var watchdog: HTTP2StreamDeadlines { HTTP2StreamDeadlines(connection: connection, id: id) }

    deinit { cancel() }

    /// Waits for the final response head.
    func head() async throws(HTTPClientError) -> HTTPResponse {
        try await connection.head(of: id)
    }

    /// The next body chunk, or nil at the end (the stream's slot is then free).
    func next() async throws(HTTPClientError) -> [UInt8]? {
        let chunk = try await connection.nextChunk(of: id)
        if chunk == nil { released.store(true, ordering: .releasing) }
        return chunk
    }

    /// Sends request body bytes under the peer's flow control.
    func send(_ bytes: [UInt8], endStream: Bool) async throws(HTTPClientError) {
        try await connection.send(bytes, endStream: endStream, on: id)
    }

    /// Gives up on the stream: RST_STREAM(CANCEL) unless it finished, and the slot is freed.
    func cancel() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        connection.release(id)
    }
}
