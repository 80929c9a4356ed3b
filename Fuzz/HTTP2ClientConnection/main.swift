// Fuzzes a client-role HTTP2Connection: it sends its preface and SETTINGS and starts a few
// requests, then takes arbitrary bytes as the server's side of the connection.
// Input: a configuration byte (bit 0 small limits, bit 1 manual window replenishment, bit 2
// push enabled, bit 3 flush only at the end, bits 4-5 requests started before the first byte
// (0-3), bit 6 a request with a body after every piece, bit 7 the harness feeds a valid server
// SETTINGS and SETTINGS ACK first), a piece-size byte (0: everything in one call), then the
// server's bytes, fed in pieces of that size.
// Checks, besides "no crash": output queued by one receive call stays within a small multiple
// of the bytes it was given, a connection error sticks (same error, GOAWAY queued, no more
// events), promised streams are even, and the stream count stays bounded.
import EpsilonHPACK
import EpsilonHTTP2
import FuzzHTTP2Support
import FuzzSupport

private struct Recorder: HTTP2FuzzRecording {
    var data: [(UInt32, Int)] = []
    var dataBytes = 0
    var events = 0
    var promised = 0

    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) {
        events += 1
        switch event {
        case .headers(_, let list, _), .trailers(_, let list):
            _ = list.fields
            _ = list.priority
        case .data(let stream, let bytes, _):
            dataBytes += bytes.count
            data.append((stream, bytes.count))
            var sum = 0
            for byte in bytes { sum &+= Int(byte) }  // ASan checks the view is readable
            _ = sum
        case .pushPromise(let stream, let promisedStream, let request):
            fuzzCheck(stream & 1 == 1 && promisedStream & 1 == 0 && promisedStream != 0,
                      "push promise on \(stream) promising \(promisedStream)")
            _ = request.fields
            promised += 1
        case .goaway(_, _, let debug):
            _ = Array(debug)
        default:
            break
        }
    }
}

private func frame(_ type: UInt8, flags: UInt8, _ payload: [UInt8] = []) -> [UInt8] {
    [0, 0, UInt8(payload.count), type, flags, 0, 0, 0, 0] + payload
}

private let request = [
    HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "https"),
    HPACKHeaderField(":path", "/"), HPACKHeaderField(":authority", "example.com"),
]
private let upload = [
    HPACKHeaderField(":method", "POST"), HPACKHeaderField(":scheme", "https"),
    HPACKHeaderField(":path", "/upload"), HPACKHeaderField(":authority", "example.com"),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let pieceSize = Int(input.byte())
    var configuration = fuzzHTTP2Configuration(flags: flags)
    configuration.enablePush = flags & 4 != 0
    let flushEachTime = flags & 8 == 0
    let uploadEachTime = flags & 64 != 0

    var client = HTTP2Connection(role: .client, configuration: configuration)
    var output: [UInt8] = []
    client.writeOutput(into: &output)
    fuzzCheck(output.starts(with: HTTP2Connection.clientPreface) && output.count >= HTTP2Connection.clientPreface.count + 9,
              "the client did not open with its preface and SETTINGS")
    if flags & 128 != 0 {
        do {
            var recorder = Recorder()
            try client.receive(frame(4, flags: 0) + frame(4, flags: 1), now: 0, handler: &recorder)
        } catch {
            fuzzCheck(false, "a valid server SETTINGS and ACK were refused: \(error)")
        }
    }
    var started = 0
    for _ in 0..<Int(flags >> 4 & 3) {
        do {
            _ = try client.startRequest(request, endStream: true)
            started += 1
        } catch {
            fuzzCheck(false, "a fresh client could not start a request: \(error)")
        }
    }

    let body: [UInt8] = Array(repeating: 0x62, count: 200)
    var now: UInt64 = 0
    var checker = HTTP2ReceiveChecker()
    while !input.isAtEnd {
        let piece = input.piece(size: pieceSize)
        now &+= 1_000_000
        var recorder = Recorder()
        checker.receive(piece, now: now, on: &client, configuration: configuration, into: &recorder)
        fuzzCheck(configuration.enablePush || recorder.promised == 0, "a push promise with push disabled")
        fuzzCheck(client.activeStreamCount <= started + configuration.maxConcurrentStreams,
                  "\(client.activeStreamCount) streams for \(started) started")
        if uploadEachTime {
            do {
                let stream = try client.startRequest(upload, endStream: false)
                started += 1
                fuzzCheck(stream & 1 == 1, "a client started even stream \(stream)")
                let sent = try client.sendData(streamID: stream, body, endStream: true)
                fuzzCheck(sent >= 0 && sent <= body.count, "sendData reported \(sent) of \(body.count)")
            } catch {
                // Closed, GOAWAY received, or the server's stream limit reached.
            }
        }
        if flushEachTime {
            output.removeAll(keepingCapacity: true)
            client.writeOutput(into: &output)
        }
    }
    output.removeAll(keepingCapacity: true)
    client.writeOutput(into: &output)
    return 0
}
