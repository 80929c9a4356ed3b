// Fuzzes a server-role HTTP2Connection: a valid client preface, then arbitrary bytes.
// Input: a configuration byte (bit 0 small limits, bit 1 manual window replenishment, bit 2
// answer every request head with a response, bit 3 flush only at the end, bits 4-5 how the
// time advances per piece: 0 / 1 ms / 1 s / 20 s), a piece-size byte (0: everything in one
// call), then the bytes after the preface, fed in pieces of that size.
// Checks, besides "no crash": output queued by one receive call stays within a small multiple
// of the bytes it was given (no amplification, bounded buffering), DATA events carry no more
// than their frames, a connection error sticks (later calls throw the same error, GOAWAY
// queued), events stop after it, and the stream count stays within the configured limit.
import EpsilonHPACK
import EpsilonHTTP2
import FuzzHTTP2Support
import FuzzSupport

private struct Recorder: HTTP2FuzzRecording {
    var heads: [UInt32] = []
    var data: [(UInt32, Int)] = []
    var dataBytes = 0
    var events = 0

    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) {
        events += 1
        switch event {
        case .headers(let stream, let list, _):
            fuzzCheck(stream & 1 == 1, "a request head on even stream \(stream)")
            for index in 0..<list.count { _ = list[index] }
            heads.append(stream)
        case .trailers(_, let list):
            _ = list.fields
        case .data(let stream, let bytes, _):
            dataBytes += bytes.count
            data.append((stream, bytes.count))
            var sum = 0
            for byte in bytes { sum &+= Int(byte) }  // ASan checks the view is readable
            _ = sum
        case .priorityUpdate(_, let priority):
            fuzzCheck((0...7).contains(priority.urgency), "urgency \(priority.urgency)")
        case .pushPromise:
            fuzzCheck(false, "a server received a push promise event")
        default:
            break
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceSize = Int(input.byte())
    let configuration = fuzzHTTP2Configuration(flags: flags, streamsPerConnection: 16)
    let respond = flags & 4 != 0
    let flushEachTime = flags & 8 == 0
    let step: UInt64 = [0, 1_000_000, 1_000_000_000, 20_000_000_000][Int(flags >> 4 & 3)]

    var server = HTTP2Connection(role: .server, configuration: configuration)
    var output: [UInt8] = []
    server.writeOutput(into: &output)
    do {
        var recorder = Recorder()
        try server.receive(HTTP2Connection.clientPreface, now: 0, handler: &recorder)
        fuzzCheck(recorder.events == 0, "events from the preface alone")
    } catch {
        fuzzCheck(false, "the valid preface was refused: \(error)")
    }

    let body: [UInt8] = Array(repeating: 0x61, count: 300)
    var now: UInt64 = 0
    var checker = HTTP2ReceiveChecker()
    while !input.isAtEnd {
        let piece = input.piece(size: pieceSize)
        now &+= step
        var recorder = Recorder()
        checker.receive(piece, now: now, on: &server, configuration: configuration, into: &recorder)
        fuzzCheck(server.activeStreamCount <= configuration.maxConcurrentStreams + recorder.heads.count,
                  "\(server.activeStreamCount) streams over the limit \(configuration.maxConcurrentStreams)")
        if respond {
            for stream in recorder.heads {
                do {
                    try server.sendHeaders(streamID: stream, [HPACKHeaderField(":status", "200"), HPACKHeaderField("server", "fuzz")], endStream: false)
                    let sent = try server.sendData(streamID: stream, body, endStream: true)
                    fuzzCheck(sent >= 0 && sent <= body.count, "sendData reported \(sent) of \(body.count)")
                } catch {
                    // A stream the peer already reset or closed, or a closed connection.
                }
            }
        }
        if flushEachTime {
            output.removeAll(keepingCapacity: true)
            server.writeOutput(into: &output)
            fuzzCheck(server.pendingOutputCount == 0, "output left after a flush")
        }
    }
    output.removeAll(keepingCapacity: true)
    server.writeOutput(into: &output)
    return 0
}
