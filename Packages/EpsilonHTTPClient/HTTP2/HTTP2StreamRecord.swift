import HTTPTypes

/// What an HTTP/2 client connection keeps per stream: the response as it arrives, and the
/// continuations of the request task and body reader waiting on it.
///
/// Chunks wait here until the body's reader takes them; the stream's receive window (the
/// connection's ``HTTPClientConfiguration/receiveBufferLimit``) bounds them, since credit is
/// returned only for chunks taken.
struct HTTP2StreamRecord {
    // Unsafe continuations (no checking box per wait): each is stored in one record field and
    // taken out of it, under the connection's lock, by whoever resumes it.
    typealias HeadContinuation = UnsafeContinuation<Result<HTTPResponse, HTTPClientError>, Never>
    typealias ChunkContinuation = UnsafeContinuation<Result<[UInt8]?, HTTPClientError>, Never>
    typealias WindowContinuation = UnsafeContinuation<Result<Void, HTTPClientError>, Never>

    /// The final response head, once received.
    var head: HTTPResponse?
    var headWaiter: HeadContinuation?
    /// Body chunks received and not yet taken, oldest first from `firstChunk`.
    var chunks: [[UInt8]] = []
    var firstChunk = 0
    var chunkWaiter: ChunkContinuation?
    /// The request body waiting for send window.
    var windowWaiter: WindowContinuation?
    /// The peer ended its side (END_STREAM on the head, the last DATA or trailers).
    var remoteEnded = false
    /// We ended our side (END_STREAM sent).
    var localEnded = false
    /// The machine no longer knows the stream (reset by either side).
    var reset = false
    /// Why the stream failed, if it did; every later wait throws it.
    var error: HTTPClientError?
    /// The current phase's deadline (monotonic nanoseconds) and the error it means.
    var phaseDeadline: UInt64?
    var phaseError = HTTPClientError.readTimeout
    /// The whole request's deadline.
    var requestDeadline: UInt64?

    /// The earliest deadline and its error, if any (none once the stream failed or ended).
    var nextDeadline: (at: UInt64, error: HTTPClientError)? {
        guard error == nil, !remoteEnded else { return nil }
        switch (phaseDeadline, requestDeadline) {
        case (nil, nil): return nil
        case (let phase?, nil): return (phase, phaseError)
        case (nil, let request?): return (request, .requestTimeout)
        case (let phase?, let request?): return phase <= request ? (phase, phaseError) : (request, .requestTimeout)
        }
    }

    /// Whether any chunk waits.
    var hasChunk: Bool { firstChunk < chunks.count }

    /// Takes the oldest chunk.
    mutating func takeChunk() -> [UInt8] {
        var chunk: [UInt8] = []
        swap(&chunk, &chunks[firstChunk])
        firstChunk += 1
        if firstChunk == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            firstChunk = 0
        }
        return chunk
    }

    /// Bytes received and not yet taken (credit still owed to the peer).
    var bufferedBytes: Int {
        var total = 0
        var index = firstChunk
        while index < chunks.count {
            total += chunks[index].count
            index += 1
        }
        return total
    }

    /// Fails the stream with `error` (unless it already failed) and collects the waiters to wake.
    mutating func fail(_ error: HTTPClientError, into wakeups: inout HTTP2Wakeups) {
        if self.error == nil { self.error = error }
        let failure = self.error!
        if let waiter = headWaiter {
            headWaiter = nil
            wakeups.head(waiter, .failure(failure))
        }
        if let waiter = chunkWaiter {
            chunkWaiter = nil
            wakeups.chunk(waiter, .failure(failure))
        }
        if let waiter = windowWaiter {
            windowWaiter = nil
            wakeups.window(waiter, .failure(failure))
        }
    }
}

/// Continuations to resume once the connection's lock is released (values, not closures: no
/// allocation per wakeup beyond the list's).
struct HTTP2Wakeups {
    private enum Action {
        case head(HTTP2StreamRecord.HeadContinuation, Result<HTTPResponse, HTTPClientError>)
        case chunk(HTTP2StreamRecord.ChunkContinuation, Result<[UInt8]?, HTTPClientError>)
        case window(HTTP2StreamRecord.WindowContinuation, Result<Void, HTTPClientError>)
    }

    private var actions: [Action] = []

    mutating func head(_ waiter: HTTP2StreamRecord.HeadContinuation, _ result: Result<HTTPResponse, HTTPClientError>) {
        actions.append(.head(waiter, result))
    }

    mutating func chunk(_ waiter: HTTP2StreamRecord.ChunkContinuation, _ result: Result<[UInt8]?, HTTPClientError>) {
        actions.append(.chunk(waiter, result))
    }

    mutating func window(_ waiter: HTTP2StreamRecord.WindowContinuation, _ result: Result<Void, HTTPClientError>) {
        actions.append(.window(waiter, result))
    }

    var isEmpty: Bool { actions.isEmpty }

    /// Resumes every waiter (outside the lock), in the order they were added.
    func run() {
        for action in actions {
            switch action {
            case .head(let waiter, let result): waiter.resume(returning: result)
            case .chunk(let waiter, let result): waiter.resume(returning: result)
            case .window(let waiter, let result): waiter.resume(returning: result)
            }
        }
    }
}
