import EpsilonHTTP2
import EpsilonHTTPTypes
import HTTPTypes

/// The HTTP/2 machine's event handler on the client side: it files each event into the stream
/// records (swapped out of the connection's state for the length of one `receive`) and
/// collects the waiters to wake once the lock is released.
struct HTTP2ClientEventSink: HTTP2EventHandler {
    var streams: [UInt32: HTTP2StreamRecord]
    var wakeups = HTTP2Wakeups()
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS changed (the pool may hand out more streams).
    var settingsChanged = false
    /// The peer sent GOAWAY: no new streams on this connection.
    var goingAway = false

    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        switch event {
        case .settingsChanged:
            settingsChanged = true
        case .headers(let id, let list, let endStream):
            guard streams[id] != nil else { return }
            received(head: list, endStream: endStream, on: id, connection: &connection)
        case .trailers(let id, _):
            // Trailers end the body; swift-http-types responses carry no trailers here.
            guard streams[id] != nil else { return }
            end(id)
        case .data(let id, let bytes, let endStream):
            guard streams[id] != nil, streams[id]!.error == nil else {
                // A stream we gave up on: hand its connection credit back at once.
                connection.consume(streamID: id, count: bytes.count)
                return
            }
            if !bytes.isEmpty {
                if let waiter = streams[id]!.chunkWaiter, !streams[id]!.hasChunk {
                    // A reader waits: the chunk goes straight to it, and so does the credit.
                    streams[id]!.chunkWaiter = nil
                    let chunk = Array(bytes)
                    connection.consume(streamID: id, count: chunk.count)
                    wakeups.chunk(waiter, .success(chunk))
                } else {
                    streams[id]!.chunks.append(Array(bytes))
                }
            }
            if endStream { end(id) }
        case .streamReset(let id, let code, let byPeer):
            guard streams[id] != nil else { return }
            streams[id]!.reset = true
            if streams[id]!.remoteEnded && code == .noError { return }  // §8.1: the response was whole
            let error: HTTPClientError
            if code == .refusedStream, let last = connection.goawayReceivedLastStreamID, id > last {
                error = .http2GoAwayUnprocessed(lastStreamID: last)
            } else if code == .refusedStream && byPeer {
                error = .http2StreamRefused
            } else if !byPeer {
                // Our reset for the peer's stream error (a malformed head, bad content-length).
                error = .http2StreamReset(code)
            } else {
                error = .http2StreamReset(code)
            }
            streams[id]!.fail(error, into: &wakeups)
        case .windowUpdated(let id, _):
            if id == 0 {
                for key in streams.keys { wakeWriter(key) }
            } else if streams[id] != nil {
                wakeWriter(id)
            }
        case .goaway:
            goingAway = true
        case .settingsAcknowledged, .ping, .pingAcknowledged, .pushPromise, .priority, .priorityUpdate:
            break
        }
    }

    /// A response head: an interim 1xx is skipped; the final one wakes the request task.
    private mutating func received(head list: HTTP2HeaderList, endStream: Bool, on id: UInt32,
                                   connection: inout HTTP2Connection) {
        let response: HTTPResponse
        do {
            response = try HTTPResponse(http2Fields: list)
        } catch {
            try? connection.resetStream(streamID: id, code: .protocolError)
            streams[id]!.reset = true
            streams[id]!.fail(.invalidResponseHead("\(error)"), into: &wakeups)
            return
        }
        if response.status.kind == .informational && !endStream { return }
        streams[id]!.head = response
        if let waiter = streams[id]!.headWaiter {
            streams[id]!.headWaiter = nil
            wakeups.head(waiter, .success(response))
        }
        if endStream { end(id) }
    }

    /// The peer ended the stream: a waiting reader with nothing buffered learns the end now.
    private mutating func end(_ id: UInt32) {
        streams[id]!.remoteEnded = true
        if let waiter = streams[id]!.chunkWaiter, !streams[id]!.hasChunk {
            streams[id]!.chunkWaiter = nil
            wakeups.chunk(waiter, .success(nil))
        }
    }

    private mutating func wakeWriter(_ id: UInt32) {
        if let waiter = streams[id]!.windowWaiter {
            streams[id]!.windowWaiter = nil
            wakeups.window(waiter, .success(()))
        }
    }
}
