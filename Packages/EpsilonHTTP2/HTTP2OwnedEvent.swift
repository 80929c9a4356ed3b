import EpsilonHPACK

// Test and tool conveniences, `package` access: not part of the public API (they allocate
// per event). Tests, the fuzzers' support and the tools in this package use them.

/// An event with every view copied, so it can be kept, compared and printed (allocates; for
/// tests, tools and callers that prefer values).
package enum HTTP2OwnedEvent: Hashable, Sendable {
    /// See ``HTTP2Event/settingsChanged(_:)``.
    case settingsChanged(HTTP2Settings)
    /// See ``HTTP2Event/settingsAcknowledged``.
    case settingsAcknowledged
    /// See ``HTTP2Event/headers(streamID:_:endStream:)``.
    case headers(streamID: UInt32, [HPACKHeaderField], endStream: Bool)
    /// See ``HTTP2Event/trailers(streamID:_:)``.
    case trailers(streamID: UInt32, [HPACKHeaderField])
    /// See ``HTTP2Event/data(streamID:_:endStream:)``.
    case data(streamID: UInt32, [UInt8], endStream: Bool)
    /// See ``HTTP2Event/streamReset(streamID:code:byPeer:)``.
    case streamReset(streamID: UInt32, code: HTTP2ErrorCode, byPeer: Bool)
    /// See ``HTTP2Event/windowUpdated(streamID:increment:)``.
    case windowUpdated(streamID: UInt32, increment: UInt32)
    /// See ``HTTP2Event/ping(_:)``.
    case ping(UInt64)
    /// See ``HTTP2Event/pingAcknowledged(_:)``.
    case pingAcknowledged(UInt64)
    /// See ``HTTP2Event/goaway(lastStreamID:code:debugData:)``.
    case goaway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: [UInt8])
    /// See ``HTTP2Event/pushPromise(streamID:promisedStreamID:request:)``.
    case pushPromise(streamID: UInt32, promisedStreamID: UInt32, request: [HPACKHeaderField])
    /// See ``HTTP2Event/priority(streamID:_:)``.
    case priority(streamID: UInt32, HTTP2PriorityFields)
    /// See ``HTTP2Event/priorityUpdate(streamID:_:)``.
    case priorityUpdate(streamID: UInt32, HTTP2Priority)

    /// Copies an event.
    package init(_ event: HTTP2Event) {
        switch event {
        case .settingsChanged(let settings): self = .settingsChanged(settings)
        case .settingsAcknowledged: self = .settingsAcknowledged
        case .headers(let id, let list, let end): self = .headers(streamID: id, list.fields, endStream: end)
        case .trailers(let id, let list): self = .trailers(streamID: id, list.fields)
        case .data(let id, let bytes, let end): self = .data(streamID: id, Array(bytes), endStream: end)
        case .streamReset(let id, let code, let byPeer): self = .streamReset(streamID: id, code: code, byPeer: byPeer)
        case .windowUpdated(let id, let increment): self = .windowUpdated(streamID: id, increment: increment)
        case .ping(let opaque): self = .ping(opaque)
        case .pingAcknowledged(let opaque): self = .pingAcknowledged(opaque)
        case .goaway(let last, let code, let debug): self = .goaway(lastStreamID: last, code: code, debugData: Array(debug))
        case .pushPromise(let id, let promised, let list): self = .pushPromise(streamID: id, promisedStreamID: promised, request: list.fields)
        case .priority(let id, let fields): self = .priority(streamID: id, fields)
        case .priorityUpdate(let id, let priority): self = .priorityUpdate(streamID: id, priority)
        }
    }
}

/// A handler that keeps owned copies of every event (allocates; for tests and tools).
package struct HTTP2EventCollector: HTTP2EventHandler, Sendable {
    /// The events so far.
    package var events: [HTTP2OwnedEvent] = []
    /// Makes an empty collector.
    package init() {}
    /// Copies the event and keeps it.
    package mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) {
        events.append(HTTP2OwnedEvent(event))
    }
}
