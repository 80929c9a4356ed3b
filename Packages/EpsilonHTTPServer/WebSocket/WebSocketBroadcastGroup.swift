public import EpsilonWebSocket
import EpsilonWebSocketDeflate
import EpsilonTransport
import Synchronization

/// A named set of WebSocket connections (a room) that messages are published to, from any
/// thread: connections on every loop of a server may be members.
///
/// Publishing encodes the message once into a shared, immutable frame; each member's loop
/// gets one task per publish (not one per member) that hands the same bytes to each of its
/// members' write queues by reference (a ``ConnectionSharedBytes``): the kernel reads every
/// member's copy from the one frame, and no member causes a copy of its own (frames of 256
/// bytes or less are copied into each queue, which is cheaper than the reference; with TLS
/// each member encrypts the frame, the one copy encryption makes anyway).
/// Compression: members whose permessage-deflate has no server context takeover get a frame
/// compressed once per window size in use; members *with* context takeover compress the
/// message themselves (their window depends on what they were sent before).
///
/// A member whose queue is full gets its route's ``WebSocketBackpressurePolicy`` (``WebSocketBackpressurePolicy/wait``
/// drops, since a publisher never waits for one member): it never slows the others.
/// Members leave on close by themselves.
///
/// ```swift
/// let room = WebSocketBroadcastGroup(name: "lobby")
/// final class Chat: WebSocketInlineHandler {
///     let room: WebSocketBroadcastGroup
///     init(room: WebSocketBroadcastGroup) { self.room = room }
///     func opened(_ socket: WebSocketInlineSocket) { socket.join(room) }
///     func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, socket: WebSocketInlineSocket) {
///         socket.publish(kind, payload, to: room)
///     }
/// }
/// ```
public final class WebSocketBroadcastGroup: Sendable {
    /// The group's name (for logs; groups are told apart by identity).
    public let name: String
    let members = Mutex(WebSocketGroupMembers())
    /// One compressor per window size for the members without context takeover (it is reset
    /// after each message, so sharing it is sound); used under its lock by publishers.
    let compressors = Mutex(WebSocketGroupCompressors())

    /// An empty group.
    public init(name: String) {
        self.name = name
    }

    /// How many connections are members now.
    public var memberCount: Int { members.withLock { $0.count } }

    /// Publishes a text message to every member.
    public func publish(text: String) {
        var text = text
        text.withUTF8 { publish(.text, UnsafeRawBufferPointer($0)) }
    }

    /// Publishes a binary message to every member.
    public func publish(binary: [UInt8]) {
        binary.withUnsafeBytes { publish(.binary, $0) }
    }

    /// Publishes a message (`payload` is copied once) to every member.
    public func publish(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer) {
        publish(WebSocketBroadcastFrame(kind: kind, payload: payload, group: self), from: nil)
    }

    /// Hands `frame` to every member: those on loop `current` (the caller's) at once, the
    /// others through one task per loop.
    func publish(_ frame: WebSocketBroadcastFrame, from current: ObjectIdentifier?) {
        let loops = members.withLock { $0.loops }
        for (key, loop) in loops {
            let drivers = loop.drivers
            if key == current {
                for member in drivers { member.driver.deliver(frame) }
            } else {
                _ = loop.executor.execute {
                    for member in drivers { member.driver.deliver(frame) }
                }
            }
        }
    }

    func add(_ driver: WebSocketServerDriver) {
        let member = WebSocketGroupMember(driver: driver)
        let key = driver.loopKey
        let executor = driver.io.executor
        let window = driver.sharedCompressionWindow
        members.withLock { state in
            state.loops[key, default: WebSocketGroupLoop(executor: executor)].drivers.append(member)
            state.count += 1
            if let window { state.windows[window, default: 0] += 1 }
        }
    }

    func remove(_ driver: WebSocketServerDriver) {
        let key = driver.loopKey
        let window = driver.sharedCompressionWindow
        members.withLock { state in
            guard var loop = state.loops[key], let index = loop.drivers.firstIndex(where: { $0.driver === driver }) else { return }
            loop.drivers.swapAt(index, loop.drivers.count - 1)
            loop.drivers.removeLast()
            state.loops[key] = loop.drivers.isEmpty ? nil : loop
            state.count -= 1
            if let window {
                let left = (state.windows[window] ?? 1) - 1
                state.windows[window] = left > 0 ? left : nil
            }
        }
    }

    /// The window sizes that members without context takeover use now.
    var sharedWindows: [Int] { members.withLock { Array($0.windows.keys) } }

    /// `payload` compressed for a window of `windowBits` bits, without context takeover.
    func compress(_ payload: UnsafeRawBufferPointer, windowBits: Int) -> [UInt8] {
        compressors.withLock { cache in
            if cache.compressors[windowBits] == nil {
                cache.compressors[windowBits] = WebSocketDeflateCompressor(
                    windowBits: windowBits, noContextTakeover: true,
                    memoryLevel: WebSocketDeflateCompressor.memoryLevel(forWindowBits: windowBits))
            }
            var output: [UInt8] = []
            cache.compressors[windowBits]?.compress(payload, into: &output)
            return output
        }
    }
}

/// A group's compressors, one per window size.
struct WebSocketGroupCompressors: @unchecked Sendable {
    // Unchecked: the compressors are used only inside the group's `compressors` lock.
    var compressors: [Int: WebSocketDeflateCompressor] = [:]
}

/// The members of a group, by loop.
struct WebSocketGroupMembers {
    var loops: [ObjectIdentifier: WebSocketGroupLoop] = [:]
    var count = 0
    /// Window bits → members without server context takeover that use them.
    var windows: [Int: Int] = [:]
}

/// The members of a group on one loop.
struct WebSocketGroupLoop: Sendable {
    let executor: HTTPServerLoopExecutor
    var drivers: [WebSocketGroupMember] = []
}

/// A member connection, as the group keeps it across threads.
struct WebSocketGroupMember: @unchecked Sendable {
    // Unchecked: the driver is loop-bound. The group only stores it and hands it back to its
    // own loop (the `publish` tasks run on the member's loop through its executor, or the
    // caller is on that loop already), where alone `deliver` is called.
    let driver: WebSocketServerDriver
}

/// One published message, encoded once: the server frame (unmasked, FIN) as plain bytes and
/// compressed for each window size members without context takeover use. Immutable, shared
/// by every member (each member's write queue references the same bytes).
final class WebSocketBroadcastFrame: Sendable {
    let kind: WebSocketMessageKind
    /// The message payload (members with context takeover compress it themselves).
    let payload: [UInt8]
    /// The whole uncompressed frame.
    let plain: ConnectionSharedBytes
    /// Window bits → the whole compressed frame (RSV1 set).
    let compressed: [Int: ConnectionSharedBytes]

    init(kind: WebSocketMessageKind, payload: UnsafeRawBufferPointer, group: WebSocketBroadcastGroup) {
        self.kind = kind
        self.payload = Array(payload)
        var plain: [UInt8] = []
        plain.reserveCapacity(payload.count + 10)
        WebSocketFrameEncoder.writeFrame(WebSocketFrameHeader(opcode: kind.opcode, payloadLength: UInt64(payload.count)), payload: payload, into: &plain)
        self.plain = ConnectionSharedBytes(plain)
        var compressed: [Int: ConnectionSharedBytes] = [:]
        for window in group.sharedWindows where window > 8 {
            let body = group.compress(payload, windowBits: window)
            var frame: [UInt8] = []
            frame.reserveCapacity(body.count + 10)
            body.withUnsafeBytes {
                WebSocketFrameEncoder.writeFrame(WebSocketFrameHeader(reserved: .rsv1, opcode: kind.opcode, payloadLength: UInt64($0.count)), payload: $0, into: &frame)
            }
            compressed[window] = ConnectionSharedBytes(frame)
        }
        self.compressed = compressed
    }
}
