// HTTP/2: EpsilonHTTP2's server-role connection against nghttp2 (nghttp2_session_mem_recv, a
// server session) and NIOHTTP2 (NIOHTTP2Handler in an EmbeddedChannel), all consuming the same
// recorded client stream on one long-lived connection per side.
//
// Frame decoding alone has no peer: nghttp2 reads frames only inside nghttp2_session_mem_recv,
// and NIOHTTP2's HTTP2FrameDecoder is internal to the module (not reachable from a release
// build). So the rows compare whole connections, and our bare HTTP2FrameDecoder over the same bytes
// is an extra side (`--run h2-server --side epsilon-framedecoder`) for callgrind.sh only.
import CNghttp2
import EpsilonHPACK
import EpsilonHTTP2
import Foundation
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2

/// What a server saw, folded to one number every side must agree on.
struct H2Seen {
    var requests = 0, fields = 0, fieldBytes = 0, dataBytes = 0
    var check: Int { requests &* 1_000_003 &+ fields &* 10_007 &+ fieldBytes &* 31 &+ dataBytes }
    mutating func reset() { self = H2Seen() }
    func perOp(_ ops: Int) -> Int {
        H2Seen(requests: requests / ops, fields: fields / ops, fieldBytes: fieldBytes / ops, dataBytes: dataBytes / ops).check
    }
}

/// A recorded client stream: `prologue` once per connection (preface, SETTINGS, WINDOW_UPDATE,
/// SETTINGS ACK, a first request that fills the HPACK table), then `batch` once per operation
/// with its stream identifiers rewritten so they keep increasing. The batch's header blocks use
/// only table entries the prologue made and literals without indexing, so they decode the same
/// whatever the operation.
struct H2Recording {
    var prologue: [UInt8] = []
    var batch: [UInt8] = []
    /// Where each frame's stream identifier sits in `batch`, and which request it belongs to.
    var idOffsets: [(offset: Int, request: Int)] = []
    var requestsPerBatch = 0
    var framesPerBatch = 0

    /// Writes the stream identifiers of operation `op` (requests 3, 5, 7, ... after the prologue's 1).
    func writeIDs(_ op: Int, into bytes: UnsafeMutableRawPointer) {
        let base = 3 &+ op &* 2 &* requestsPerBatch
        for entry in idOffsets {
            let id = UInt32(truncatingIfNeeded: base &+ 2 &* entry.request)
            bytes.storeBytes(of: id.bigEndian, toByteOffset: entry.offset, as: UInt32.self)
        }
    }
}

/// Records `requests` requests per batch, each a HEADERS frame and its body in DATA frames of
/// `frameSize` octets (the last with END_STREAM).
func recordH2(requests: Int, bodySize: Int, frameSize: Int) -> H2Recording {
    func fields(path: String, pathIndexing: HPACKFieldIndexing) -> [HPACKHeaderField] {
        [HPACKHeaderField(":method", "POST", indexing: .incremental),
         HPACKHeaderField(":scheme", "https", indexing: .incremental),
         HPACKHeaderField(":authority", "api.example.com", indexing: .incremental),
         HPACKHeaderField(":path", path, indexing: pathIndexing),
         HPACKHeaderField("content-type", "application/json", indexing: .incremental),
         HPACKHeaderField("content-length", String(bodySize), indexing: .incremental),
         HPACKHeaderField("user-agent", "epsilon-bench/1.0 (h2 recording)", indexing: .incremental),
         HPACKHeaderField("accept", "application/json", indexing: .incremental),
         HPACKHeaderField("accept-encoding", "gzip, deflate, br", indexing: .incremental)]
    }
    let body = (0..<bodySize).map { UInt8(0x61 &+ $0 % 26) }
    var encoder = HPACKHeaderBlockEncoder()
    var recording = H2Recording()
    var block: [UInt8] = []

    func appendRequest(_ id: UInt32, _ list: [HPACKHeaderField], into output: inout [UInt8], offsets: inout [(offset: Int, request: Int)], request: Int) -> Int {
        block.removeAll()
        encoder.encode(list, into: &block)
        var frames = 1
        offsets.append((output.count + 5, request))
        block.withUnsafeBytes { HTTP2FrameEncoder.appendHeaders(streamID: id, fragment: $0, endStream: false, endHeaders: true, into: &output) }
        var sent = 0
        while sent < body.count {
            let piece = min(frameSize, body.count - sent)
            offsets.append((output.count + 5, request))
            body[sent..<(sent + piece)].withUnsafeBytes {
                HTTP2FrameEncoder.appendData(streamID: id, $0, endStream: sent + piece == body.count, into: &output)
            }
            sent += piece
            frames += 1
        }
        return frames
    }

    recording.prologue.append(contentsOf: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8))
    HTTP2FrameEncoder.appendSettings([HTTP2SettingsEntry(.enablePush, 0), HTTP2SettingsEntry(.maxConcurrentStreams, 100)], into: &recording.prologue)
    HTTP2FrameEncoder.appendWindowUpdate(streamID: 0, increment: 1 << 20, into: &recording.prologue)
    HTTP2FrameEncoder.appendSettings([], ack: true, into: &recording.prologue)
    var unused: [(offset: Int, request: Int)] = []
    _ = appendRequest(1, fields(path: "/v1/items/0", pathIndexing: .withoutIndexing), into: &recording.prologue, offsets: &unused, request: 0)
    for request in 0..<requests {
        recording.framesPerBatch += appendRequest(
            UInt32(3 + 2 * request), fields(path: "/v1/items/\(1000 + request)", pathIndexing: .withoutIndexing),
            into: &recording.batch, offsets: &recording.idOffsets, request: request)
    }
    recording.requestsPerBatch = requests
    return recording
}

// MARK: ours

/// Counts what our connection hands out and answers each request from inside `handle` once
/// its stream ends (no queue of answers replayed after `receive`).
struct EpsilonH2Handler: HTTP2EventHandler {
    var seen = H2Seen()
    let response = [HPACKHeaderField(":status", "200")]

    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        switch event {
        case .headers(let id, let list, let endStream):
            seen.requests &+= 1
            seen.fields &+= list.count
            for index in 0..<list.count {
                seen.fieldBytes &+= list.withField(at: index) { name, value in name.count &+ value.count }
            }
            if endStream { answer(id, &connection) }
        case .data(let id, let bytes, let endStream):
            seen.dataBytes &+= bytes.count
            if endStream { answer(id, &connection) }
        default:
            break
        }
    }

    func answer(_ id: UInt32, _ connection: inout HTTP2Connection) {
        do {
            try connection.sendHeaders(streamID: id, response, endStream: true)
        } catch {
            fatalError("EpsilonHTTP2 refused the response: \(error)")
        }
    }
}

/// Our server: one HTTP2Connection for the whole run, kept in memory this side owns (see
/// EpsilonSide in HTTP1Workloads.swift on run-time exclusivity checks), answering every request
/// with a `:status: 200` HEADERS that ends the stream (sent from inside `handle`), output
/// drained after each operation.
final class EpsilonH2Side {
    let connection: UnsafeMutablePointer<HTTP2Connection>
    let handler: UnsafeMutablePointer<EpsilonH2Handler>
    var output: [UInt8] = []

    init(_ recording: H2Recording) {
        connection = .allocate(capacity: 1)
        connection.initialize(to: HTTP2Connection(role: .server))
        handler = .allocate(capacity: 1)
        handler.initialize(to: EpsilonH2Handler())
        output.reserveCapacity(1 << 16)
        recording.prologue.withUnsafeBytes { feed($0) }
        handler.pointee.seen.reset()
    }
    deinit {
        connection.deinitialize(count: 1); connection.deallocate()
        handler.deinitialize(count: 1); handler.deallocate()
    }

    @inline(never)
    func feed(_ bytes: UnsafeRawBufferPointer) {
        do {
            try connection.pointee.receive(bytes, now: 0, handler: &handler.pointee)
        } catch {
            fatalError("EpsilonHTTP2 failed on the recording: \(error)")
        }
        output.removeAll(keepingCapacity: true)
        connection.pointee.writeOutput(into: &output)
    }
}

// MARK: nghttp2

/// nghttp2 as a server: nghttp2_session_mem_recv on the same bytes, callbacks that count what
/// ours counts, a response submitted when a request's stream ends, output drained with
/// nghttp2_session_mem_send.
final class Nghttp2H2Side {
    var session: OpaquePointer?
    var seen = H2Seen()
    var outputBytes = 0
    // ":status: 200", kept alive for the run; nghttp2 copies it per response.
    let status = UnsafeMutablePointer<UInt8>.allocate(capacity: 7)
    let code = UnsafeMutablePointer<UInt8>.allocate(capacity: 3)
    var response: nghttp2_nv

    init(_ recording: H2Recording) {
        status.initialize(from: Array(":status".utf8), count: 7)
        code.initialize(from: Array("200".utf8), count: 3)
        response = nghttp2_nv(name: status, value: code, namelen: 7, valuelen: 3, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        var callbacks: OpaquePointer?
        precondition(nghttp2_session_callbacks_new(&callbacks) == 0)
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, _, _, nameLength, _, valueLength, _, user in
            let side = Unmanaged<Nghttp2H2Side>.fromOpaque(user!).takeUnretainedValue()
            side.seen.fields &+= 1
            side.seen.fieldBytes &+= nameLength &+ valueLength
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, _, _, length, user in
            Unmanaged<Nghttp2H2Side>.fromOpaque(user!).takeUnretainedValue().seen.dataBytes &+= length
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { session, frame, user in
            let side = Unmanaged<Nghttp2H2Side>.fromOpaque(user!).takeUnretainedValue()
            let header = frame!.pointee.hd
            if header.type == UInt8(NGHTTP2_HEADERS.rawValue) && frame!.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
                side.seen.requests &+= 1
            }
            if (header.type == UInt8(NGHTTP2_HEADERS.rawValue) || header.type == UInt8(NGHTTP2_DATA.rawValue))
                && header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 {
                precondition(nghttp2_submit_response(session, header.stream_id, &side.response, 1, nil) == 0)
            }
            return 0
        }
        precondition(nghttp2_session_server_new(&session, callbacks, Unmanaged.passUnretained(self).toOpaque()) == 0)
        nghttp2_session_callbacks_del(callbacks)
        var settings = nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: 100)
        precondition(nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, 1) == 0)
        recording.prologue.withUnsafeBytes { feed($0) }
        seen.reset()
    }
    deinit {
        nghttp2_session_del(session)
        status.deallocate()
        code.deallocate()
    }

    @inline(never)
    func feed(_ bytes: UnsafeRawBufferPointer) {
        let consumed = nghttp2_session_mem_recv(session, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
        precondition(consumed == bytes.count, "nghttp2 failed on the recording: \(consumed)")
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            precondition(count >= 0, "nghttp2_session_mem_send failed")
            if count == 0 { break }
            outputBytes &+= count
        }
    }
}

// MARK: NIOHTTP2

/// Counts the frames NIOHTTP2Handler passes up and answers each request when its stream ends.
/// This is NIOHTTP2 used at the frame level, its cheapest use (no child channel per stream).
final class NIOH2Counter: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame
    var seen = H2Seen()
    var owed = 0
    let response = HPACKHeaders([(":status", "200")])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var ended = false
        switch frame.payload {
        case .headers(let headers):
            seen.requests &+= 1
            seen.fields &+= headers.headers.count
            for (name, value, _) in headers.headers { seen.fieldBytes &+= name.utf8.count &+ value.utf8.count }
            ended = headers.endStream
        case .data(let data):
            if case .byteBuffer(let buffer) = data.data {
                seen.dataBytes &+= buffer.readableBytes
                owed &+= buffer.readableBytes
            }
            ended = data.endStream
            // Without a stream multiplexer, connection credit is the handler's to return: do
            // what NIO's multiplexer does (and ours and nghttp2 do), once half the window is owed.
            if owed >= 32_768 {
                context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: owed))), promise: nil)
                owed = 0
            }
        default:
            break
        }
        if ended {
            let answer = HTTP2Frame(streamID: frame.streamID, payload: .headers(.init(headers: response, endStream: true)))
            context.write(wrapOutboundOut(answer), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fatalError("NIOHTTP2 failed on the recording: \(error)")
    }
}

/// NIOHTTP2: NIOHTTP2Handler (server) and the counter in an EmbeddedChannel; each operation's
/// bytes arrive in a fresh ByteBuffer, as from a socket read, and the output is drained.
final class NIOH2Side {
    let channel = EmbeddedChannel()
    let counter = NIOH2Counter()
    let allocator = ByteBufferAllocator()
    var outputBytes = 0

    init(_ recording: H2Recording) {
        try! channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server))
        try! channel.pipeline.syncOperations.addHandler(counter)
        try! channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        recording.prologue.withUnsafeBytes { feed($0) }
        counter.seen.reset()
    }

    @inline(never)
    func feed(_ bytes: UnsafeRawBufferPointer) {
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try! channel.writeInbound(buffer)
        while let data = try! channel.readOutbound(as: IOData.self) { outputBytes &+= data.readableBytes }
    }
}

// MARK: workloads

/// A side's own copy of the batch, its identifiers rewritten per operation.
final class H2Batch {
    let recording: H2Recording
    let bytes: UnsafeMutableRawBufferPointer
    var op = 0
    init(_ recording: H2Recording) {
        self.recording = recording
        bytes = .allocate(byteCount: recording.batch.count, alignment: 64)
        bytes.copyBytes(from: recording.batch)
    }
    deinit { bytes.deallocate() }
    /// The next operation's bytes.
    func next() -> UnsafeRawBufferPointer {
        recording.writeIDs(op, into: bytes.baseAddress!)
        op &+= 1
        return UnsafeRawBufferPointer(bytes)
    }
}

func h2Workload(id: String, title: String, unit: String, recording: H2Recording, itemsPerOp: Int) -> Workload {
    // Sides are made on first use (each holds a connection), so --run builds only the one it runs.
    var epsilon: (EpsilonH2Side, H2Batch)?
    let ours = Contender(name: "epsilon") { ops in
        if epsilon == nil { epsilon = (EpsilonH2Side(recording), H2Batch(recording)) }
        let (side, batch) = epsilon!
        side.handler.pointee.seen.reset()
        for _ in 0..<ops { side.feed(batch.next()) }
        return side.handler.pointee.seen.perOp(ops)
    }
    var nghttp2: (Nghttp2H2Side, H2Batch)?
    let nghttp2Side = Contender(name: "nghttp2-h2", note: "a server session (nghttp2_session_mem_recv, HTTP messaging checks on), responses by nghttp2_submit_response, output drained by nghttp2_session_mem_send") { ops in
        if nghttp2 == nil { nghttp2 = (Nghttp2H2Side(recording), H2Batch(recording)) }
        let (side, batch) = nghttp2!
        side.seen.reset()
        for _ in 0..<ops { side.feed(batch.next()) }
        return side.seen.perOp(ops)
    }
    var nio: (NIOH2Side, H2Batch)?
    let nioSide = Contender(name: "nio-http2", note: "NIOHTTP2Handler (server) in an EmbeddedChannel at the frame level (no stream multiplexer), a ByteBuffer per read, HTTP2Frames (HPACKHeaders of Strings) to a handler that answers and returns connection credit, output drained") { ops in
        if nio == nil { nio = (NIOH2Side(recording), H2Batch(recording)) }
        let (side, batch) = nio!
        side.counter.seen.reset()
        for _ in 0..<ops { side.feed(batch.next()) }
        return side.counter.seen.perOp(ops)
    }
    // Our bare frame decoder over the batch (no connection, no HPACK): for callgrind.sh only.
    let decoderOnly = Contender(name: "epsilon-framedecoder") { ops in
        let decoder = HTTP2FrameDecoder()
        var frames = 0, payload = 0
        recording.batch.withUnsafeBytes { bytes in
            for _ in 0..<ops {
                var offset = 0
                while let (frame, used) = try! decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                    frames &+= 1
                    payload &+= frame.header.length
                    offset &+= used
                }
            }
        }
        precondition(payload > 0)
        return frames / ops
    }
    return Workload(id: id, title: title, unit: unit, itemsPerOp: itemsPerOp, bytesPerOp: recording.batch.count,
                    ours: ours, peers: [nghttp2Side, nioSide], extras: [decoderOnly])
}

func http2Workloads() -> [Workload] {
    let small = recordH2(requests: 32, bodySize: 128, frameSize: 16_384)
    let upload = recordH2(requests: 1, bodySize: 16_384, frameSize: 1024)
    return [
        h2Workload(id: "h2-server", title: "h2 server, 32 POSTs x 128 B", unit: "req", recording: small, itemsPerOp: small.requestsPerBatch),
        h2Workload(id: "h2-frames", title: "h2 server, 16 KiB in 1 KiB DATA", unit: "frame", recording: upload, itemsPerOp: upload.framesPerBatch),
    ]
}
