// The hummingbird-websocket peer for Benchmarks/load/websocket.sh (and the client benchmark's
// second echo server): the same two endpoints as `epsilon serve`, on one event loop.
//   /ws/echo  every text or binary message is sent back as it came
//   /ws/chat  every text or binary message is published to every member (sender included)
// No automatic ping (the load rows are short; epsilon's and gorilla's sides do not ping either),
// UTF-8 validated as epsilon does, frames up to 1 MiB.
// Usage: hummingbird-ws-server PORT
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// The members of the one chat room. Publishing encodes a message once (a `ByteBuffer` shares
/// its storage) and hands it to each member's queue without waiting; each member's own task
/// writes its queue out, so a slow member does not hold up the publisher or the others.
final class BenchChatRoom: Sendable {
    private let members = Mutex<[Int: AsyncStream<WebSocketFrame>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    /// Joins the room; the stream yields what is published until `leave` is called.
    func join() -> (id: Int, frames: AsyncStream<WebSocketFrame>) {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        // Bounded per member: a member 4,096 messages behind loses the oldest.
        let (stream, continuation) = AsyncStream.makeStream(of: WebSocketFrame.self, bufferingPolicy: .bufferingNewest(4096))
        members.withLock { $0[id] = continuation }
        return (id, stream)
    }

    func leave(_ id: Int) {
        let continuation = members.withLock { $0.removeValue(forKey: id) }
        continuation?.finish()
    }

    func publish(_ frame: WebSocketFrame) {
        members.withLock { members in
            for continuation in members.values { continuation.yield(frame) }
        }
    }
}

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 8080 : 8080
let room = BenchChatRoom()

let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
webSocketRouter.ws("/ws/echo") { _, _ in
    .upgrade([:])
} onUpgrade: { inbound, outbound, _ in
    for try await message in inbound.messages(maxSize: 1 << 20) {
        switch message {
        case .text(let string): try await outbound.write(.text(string))
        case .binary(let buffer): try await outbound.write(.binary(buffer))
        }
    }
}
webSocketRouter.ws("/ws/chat") { _, _ in
    .upgrade([:])
} onUpgrade: { inbound, outbound, _ in
    let (id, frames) = room.join()
    defer { room.leave(id) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for await frame in frames { try await outbound.write(.custom(frame)) }
        }
        for try await message in inbound.messages(maxSize: 1 << 20) {
            switch message {
            case .text(let string):
                room.publish(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: string)))
            case .binary(let buffer):
                room.publish(WebSocketFrame(fin: true, opcode: .binary, data: buffer))
            }
        }
        room.leave(id)
        try await group.waitForAll()
    }
}

let app = Application(
    router: Router(),
    server: .http1WebSocketUpgrade(
        webSocketRouter: webSocketRouter,
        configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .disabled, validateUTF8: true))
    ),
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hummingbird", backlog: 4096),
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1))
)
try await app.runService()
