@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHPACK

/// What the peer did, as the connection machine hands it out (h2-style events).
///
/// Views (`UnsafeRawBufferPointer`) are valid only during the handler call. Header lists are
/// owned values that reuse the machine's storage: keep one and it is copied on the machine's
/// next write (copy-on-write), at no cost if you do not.
public enum HTTP2Event {
    /// The peer's SETTINGS were applied (and ACKed); the values now in force.
    case settingsChanged(HTTP2Settings)
    /// The peer acknowledged our SETTINGS.
    case settingsAcknowledged
    /// A request head (server) or response head (client, 1xx included) on a stream.
    case headers(streamID: UInt32, HTTP2HeaderList, endStream: Bool)
    /// Trailers, which always end the stream.
    case trailers(streamID: UInt32, HTTP2HeaderList)
    /// Body bytes; the view is valid during the handler call only.
    case data(streamID: UInt32, UnsafeRawBufferPointer, endStream: Bool)
    /// A stream was reset: by the peer (RST_STREAM or refused by GOAWAY) or by us for a stream
    /// error it made (RST_STREAM already queued).
    case streamReset(streamID: UInt32, code: HTTP2ErrorCode, byPeer: Bool)
    /// A send window grew by `increment`: the stream can take more DATA (stream 0: the
    /// connection, so every stream can). Whatever opened it: a WINDOW_UPDATE on the stream or
    /// the connection, or a larger SETTINGS_INITIAL_WINDOW_SIZE (then one event per stream we
    /// may still send on, after ``settingsChanged(_:)``, with the growth as `increment`).
    /// Resume sending here; ``HTTP2Connection/sendWindow(streamID:)`` says how much fits.
    case windowUpdated(streamID: UInt32, increment: UInt32)
    /// The peer pinged; the ACK is already queued.
    case ping(UInt64)
    /// The peer acknowledged one of our PINGs.
    case pingAcknowledged(UInt64)
    /// The peer is going away; streams above `lastStreamID` we started were not processed.
    case goaway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: UnsafeRawBufferPointer)
    /// The server promised a pushed response (client role); `request` is the promised request.
    case pushPromise(streamID: UInt32, promisedStreamID: UInt32, request: HTTP2HeaderList)
    /// An RFC 7540 PRIORITY frame (deprecated; surfaced for schedulers that still use it).
    case priority(streamID: UInt32, HTTP2PriorityFields)
    /// An RFC 9218 PRIORITY_UPDATE for a stream.
    case priorityUpdate(streamID: UInt32, HTTP2Priority)
}

/// Receives the machine's events (the **handle** verb); generic so the compiler specialises
/// the call per handler, with no closure or existential per event.
public protocol HTTP2EventHandler {
    /// Called once per event, in order, with the connection that produced it.
    ///
    /// The connection is in a consistent state: answer from here (``HTTP2Connection/sendHeaders(streamID:_:endStream:)``,
    /// ``HTTP2Connection/sendData(streamID:_:endStream:)``, ``HTTP2Connection/consume(streamID:count:)``,
    /// ``HTTP2Connection/resetStream(streamID:code:)``, ...) and the frames leave right after
    /// those the machine produced itself for the input so far. Do not call
    /// ``HTTP2Connection/receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)`` on it (that
    /// traps). Throwing fails the connection with the error: GOAWAY is queued and `receive`
    /// rethrows it.
    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError)
}

/// An RFC 9218 priority: urgency 0 (highest) to 7, default 3, and whether the response may be
/// delivered incrementally.
public struct HTTP2Priority: Hashable, Sendable {
    /// The urgency, 0...7.
    public var urgency: Int
    /// The incremental flag.
    public var incremental: Bool

    /// Makes a priority (defaults: urgency 3, not incremental, RFC 9218 §4).
    public init(urgency: Int = 3, incremental: Bool = false) {
        self.urgency = urgency
        self.incremental = incremental
    }

    /// Parses a Priority field value (`u=1, i`); unknown or ill-formed members are ignored as
    /// RFC 9218 §4 asks.
    public init(fieldValue: UnsafeRawBufferPointer) {
        self.init()
        var index = 0
        let count = fieldValue.count
        while index < count {
            while index < count, fieldValue[index] == 0x20 || fieldValue[index] == 0x09 || fieldValue[index] == 0x2c { index &+= 1 }
            guard index < count else { break }
            let key = fieldValue[index]
            var end = index
            while end < count, fieldValue[end] != 0x2c { end &+= 1 }
            let member = UnsafeRawBufferPointer(rebasing: fieldValue[index..<end])
            if key == 0x75 {  // u=N
                if member.count == 3, member[1] == 0x3d, member[2] >= 0x30, member[2] <= 0x37 {
                    urgency = Int(member[2] &- 0x30)
                }
            } else if key == 0x69 {  // i, i=?1, i=?0
                var trimmed = member.count
                while trimmed > 1, member[trimmed &- 1] == 0x20 { trimmed &-= 1 }
                if trimmed == 1 { incremental = true }
                else if trimmed == 4, member[1] == 0x3d, member[2] == 0x3f { incremental = member[3] == 0x31 }
            }
            index = end
        }
    }
}

/// A header list decoded from one header block: one byte buffer and one table of ranges, both
/// reused from block to block.
public struct HTTP2HeaderList: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline
    struct Entry: Hashable, Sendable {
        @usableFromInline var nameStart: Int32
        @usableFromInline var nameLength: Int32
        @usableFromInline var valueStart: Int32
        @usableFromInline var valueLength: Int32
    }

    /// Names and values back to back. Only the first `used` octets belong to the list; the
    /// rest is room kept from earlier blocks, so appending is a plain copy, not Array's
    /// append (whose per-call cost was 10% of a small-request server connection).
    @usableFromInline var bytes: [UInt8] = []
    @usableFromInline var used = 0
    @usableFromInline var entries: [Entry] = []

    /// Lists are equal when they hold the same fields in the same order.
    public static func == (lhs: HTTP2HeaderList, rhs: HTTP2HeaderList) -> Bool {
        lhs.entries == rhs.entries && lhs.bytes[..<lhs.used] == rhs.bytes[..<rhs.used]
    }

    /// Hashes the fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries)
        hasher.combine(bytes[..<used])
    }

    /// Makes an empty list.
    public init() {}

    /// Makes a list of owned fields (for sending and tests).
    public init(_ fields: [HPACKHeaderField]) {
        for field in fields { append(name: field.name, value: field.value) }
    }

    /// The number of fields.
    @inlinable
    public var count: Int { entries.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { entries.isEmpty }

    /// The field at `index`, copied (allocates).
    public subscript(index: Int) -> HPACKHeaderField {
        withField(at: index) { name, value in
            HPACKHeaderField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
    }

    /// All fields, copied (allocates).
    public var fields: [HPACKHeaderField] { (0..<count).map { self[$0] } }

    /// Calls `body` with views of the name and value at `index` (no allocation).
    ///
    /// Inlinable, so the call and the closure cost nothing in the caller's loop.
    @inlinable
    public func withField<Result>(
        at index: Int, _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Result
    ) -> Result {
        let entry = entries[index]
        return bytes.withUnsafeBytes { buffer in
            body(
                UnsafeRawBufferPointer(rebasing: buffer[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameLength)]),
                UnsafeRawBufferPointer(rebasing: buffer[Int(entry.valueStart)..<Int(entry.valueStart + entry.valueLength)]))
        }
    }

    /// Calls `body` with each field as a borrowed ``HPACKHeaderFieldView`` (the shape the HPACK
    /// decoder hands out), in order, without allocating; the views are valid during the call.
    public func forEach<Failure: Error>(_ body: (HPACKHeaderFieldView) throws(Failure) -> Void) throws(Failure) {
        var index = 0
        while index < entries.count {
            let entry = entries[index]
            try bytes.withBytes { buffer throws(Failure) in
                try body(HPACKHeaderFieldView(
                    name: UnsafeRawBufferPointer(rebasing: buffer[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameLength)]),
                    value: UnsafeRawBufferPointer(rebasing: buffer[Int(entry.valueStart)..<Int(entry.valueStart + entry.valueLength)]),
                    representation: .withoutIndexing))
            }
            index &+= 1
        }
    }

    /// Appends a field given as static text (no allocation beyond the list's own growth).
    public mutating func append(name: StaticString, value: StaticString) {
        append(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
               value: UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    /// Appends a field whose value is bytes (a length, a date, an etag) to a static name.
    public mutating func append(name: StaticString, value: UnsafeRawBufferPointer) {
        append(name: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value: value)
    }

    /// Whether the first field named `name` has a value that passes `test` (`false` if there
    /// is none). Not generic, so it allocates nothing even unoptimised.
    func firstValue(named name: StaticString, matches test: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        var index = 0
        while index < entries.count {
            // 0: another name, 1: the name but not the test, 2: both.
            let outcome = withField(at: index) { fieldName, value in
                equals(fieldName, name) ? (test(value) ? 2 : 1) : 0
            }
            if outcome != 0 { return outcome == 2 }
            index &+= 1
        }
        return false
    }

    /// Encodes every field as one header block's fields (the encoder's policy decides the
    /// indexing), appended to `block`.
    func encode(with encoder: inout HPACKHeaderBlockEncoder, into block: inout [UInt8]) {
        encoder.beginBlock(into: &block)
        var index = 0
        while index < entries.count {
            withField(at: index) { name, value in encoder.append(name: name, value: value, indexing: nil, into: &block) }
            index &+= 1
        }
    }

    /// The first value of the field named `name` (lower case), copied; `nil` if absent.
    public func first(_ name: String) -> String? {
        let wanted = Array(name.utf8)
        for index in 0..<count {
            let match: String? = withField(at: index) { fieldName, value in
                fieldName.elementsEqual(wanted) ? String(decoding: value, as: UTF8.self) : nil
            }
            if let match { return match }
        }
        return nil
    }

    /// The RFC 9218 priority signalled by the `priority` field, if present.
    public var priority: HTTP2Priority? {
        let wanted: StaticString = "priority"
        for index in 0..<count {
            let found: HTTP2Priority? = withField(at: index) { name, value in
                equals(name, wanted) ? HTTP2Priority(fieldValue: value) : nil
            }
            if let found { return found }
        }
        return nil
    }

    /// Appends a field given as strings.
    public mutating func append(name: String, value: String) {
        Array(name.utf8).withUnsafeBytes { nameBytes in
            Array(value.utf8).withUnsafeBytes { valueBytes in append(name: nameBytes, value: valueBytes) }
        }
    }

    /// Appends a field given as views (copied).
    public mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let nameStart = used
        let valueStart = nameStart &+ name.count
        let end = valueStart &+ value.count
        if end > bytes.count { grow(to: end) }
        if end > nameStart {
            bytes.withUnsafeMutableBytes { buffer in
                let base = buffer.baseAddress!
                if let source = name.baseAddress, name.count > 0 {
                    (base + nameStart).copyMemory(from: source, byteCount: name.count)
                }
                if let source = value.baseAddress, value.count > 0 {
                    (base + valueStart).copyMemory(from: source, byteCount: value.count)
                }
            }
        }
        used = end
        entries.append(Entry(
            nameStart: Int32(truncatingIfNeeded: nameStart), nameLength: Int32(truncatingIfNeeded: name.count),
            valueStart: Int32(truncatingIfNeeded: valueStart), valueLength: Int32(truncatingIfNeeded: value.count)))
    }

    /// Makes room for `end` octets (at least doubling, so appends stay amortised).
    @inline(never)
    mutating func grow(to end: Int) {
        bytes.append(contentsOf: repeatElement(0, count: Swift.max(end, bytes.count &* 2, 128) &- bytes.count))
    }

    /// Frees the storage if it holds more than `limit` octets (names, values and ranges).
    mutating func releaseStorage(above limit: Int) {
        if bytes.capacity &+ entries.capacity &* 16 > limit {
            bytes = []
            entries = []
            used = 0
        }
    }

    /// Bytes of heap the list holds.
    var heapBytes: Int { bytes.capacity &+ entries.capacity &* MemoryLayout<Entry>.stride }

    /// Empties the list, keeping its storage.
    public mutating func removeAll() {
        used = 0
        entries.removeAll(keepingCapacity: true)
    }

    /// `name: value` lines.
    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

@inline(__always)
func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
    guard bytes.count == text.utf8CodeUnitCount else { return false }
    let pointer = text.utf8Start
    var index = 0
    while index < bytes.count {
        if bytes[index] != pointer[index] { return false }
        index &+= 1
    }
    return true
}

