import EpsilonHPACK
import EpsilonHTTP2
import Foundation
import Testing

/// Drives `h2_peer.py` (Python's `h2`, installed by `.ci/run`) over its stdin/stdout in lock
/// step. If python3 or h2 is missing the peer exits at once and the test fails.
final class PythonH2Peer {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let errors: URL

    init(role: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("h2_peer.py")
        errors = FileManager.default.temporaryDirectory.appendingPathComponent("h2-peer-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, role]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
    }

    struct PeerFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends our bytes, returns the peer's answer: `("D", bytes)` or `("E", json)`.
    func exchange(_ bytes: [UInt8]) throws -> (kind: UInt8, payload: [UInt8]) {
        var message: [UInt8] = [0x44] + [UInt8(bytes.count >> 24 & 0xff), UInt8(bytes.count >> 16 & 0xff),
                                         UInt8(bytes.count >> 8 & 0xff), UInt8(bytes.count & 0xff)]
        message += bytes
        try input.fileHandleForWriting.write(contentsOf: Data(message))
        let head = try read(5)
        let length = Int(head[1]) << 24 | Int(head[2]) << 16 | Int(head[3]) << 8 | Int(head[4])
        return (head[0], try read(length))
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let chunk = try output.fileHandleForReading.read(upToCount: count - bytes.count), !chunk.isEmpty else {
                let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
                throw PeerFailed(description: "python h2 peer ended early (is `pip install h2` done?): \(log)")
            }
            bytes += chunk
        }
        return bytes
    }

    /// What the peer printed on standard error (its idle-state notes, a traceback).
    var log: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errors)
    }
}

func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }
func checksum(_ bytes: [UInt8]) -> [Int] { [bytes.count, Int(bytes.reduce(UInt32(0)) { $0 &+ UInt32($1) })] }

/// Sends bodies as the windows allow: what an application on top of the machine does.
struct BodyPump {
    var pending: [UInt32: (data: [UInt8], offset: Int, trailers: [HPACKHeaderField]?)] = [:]

    mutating func add(_ id: UInt32, _ data: [UInt8], trailers: [HPACKHeaderField]? = nil, on machine: inout HTTP2Connection) throws {
        pending[id] = (data, 0, trailers)
        try pump(&machine)
    }

    mutating func pump(_ machine: inout HTTP2Connection) throws {
        for id in pending.keys.sorted() {
            guard var entry = pending[id] else { continue }
            let rest = Array(entry.data[entry.offset...])
            let sent = try machine.sendData(streamID: id, rest, endStream: entry.trailers == nil)
            entry.offset += sent
            if entry.offset == entry.data.count {
                if let trailers = entry.trailers { try machine.sendTrailers(streamID: id, trailers) }
                pending[id] = nil
            } else {
                pending[id] = entry
            }
        }
    }
}

@Suite(.serialized) struct InteropWithPythonH2 {
    static let big = 1 << 20

    @Test func pythonH2ClientAgainstOurServer() throws {
        var configuration = HTTP2Configuration()
        configuration.initialWindowSize = 16_384
        var server = HTTP2Connection(role: .server, configuration: configuration)
        let peer = try PythonH2Peer(role: "client")
        var requests: [UInt32: (path: String, body: [UInt8], trailers: [HPACKHeaderField])] = [:]
        var pump = BodyPump()
        var result: [[String: Any]]?
        var outgoing = server.takeOutput()
        for _ in 0..<20_000 {
            let (kind, payload) = try peer.exchange(outgoing)
            if kind == 0x45 {
                result = try JSONSerialization.jsonObject(with: Data(payload)) as? [[String: Any]]
                break
            }
            var events = HTTP2EventCollector()
            try server.receive(payload, now: 0, handler: &events)
            for event in events.events {
                var ended: UInt32?
                switch event {
                case .headers(let id, let fields, let end):
                    requests[id] = (fields.first { $0.name == ":path" }?.value ?? "", [], [])
                    if end { ended = id }
                case .data(let id, let bytes, let end):
                    requests[id]?.body += bytes
                    if end { ended = id }
                case .trailers(let id, let fields):
                    requests[id]?.trailers = fields
                    ended = id
                default:
                    break
                }
                guard let id = ended, let request = requests[id] else { continue }
                switch request.path {
                case "/hello":
                    try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200")], endStream: false)
                    try pump.add(id, Array("hello world".utf8), trailers: [HPACKHeaderField("x-trailer", "done")], on: &server)
                case "/echo":
                    let echoed = request.trailers.first { $0.name == "x-request-trailer" }?.value ?? "missing"
                    try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200")], endStream: false)
                    try pump.add(id, request.body, trailers: [HPACKHeaderField("x-echo-trailer", echoed)], on: &server)
                case "/upload":
                    try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200")], endStream: false)
                    let sum = checksum(request.body)
                    try pump.add(id, Array("\(sum[0]) \(sum[1])".utf8), on: &server)
                case "/big":
                    try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200"), HPACKHeaderField("content-length", "\(Self.big)")], endStream: false)
                    try pump.add(id, pattern(Self.big), on: &server)
                case "/pushed":
                    let promised = try server.pushPromise(streamID: id, request: [
                        HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                        HPACKHeaderField(":path", "/style.css"), HPACKHeaderField(":authority", "localhost")])
                    try server.sendHeaders(streamID: promised, [HPACKHeaderField(":status", "200")], endStream: false)
                    try pump.add(promised, Array("body{color:red}".utf8), on: &server)
                    try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "200")], endStream: false)
                    try pump.add(id, Array("page".utf8), on: &server)
                default:
                    try server.sendHeaders(streamID: id, [HPACKHeaderField(":status", "404")], endStream: true)
                }
            }
            try pump.pump(&server)
            outgoing = server.takeOutput()
        }
        let responses = try #require(result, "peer log: \(peer.log.suffix(2_000))")
        func response(_ path: String) -> [String: Any]? { responses.first { $0["path"] as? String == path } }
        #expect(responses.count == 6)
        #expect(response("/hello")?["text"] as? String == "hello world")
        #expect((response("/hello")?["trailers"] as? [String: String])?["x-trailer"] == "done")
        #expect(response("/echo")?["text"] as? String == "ping-pong")
        #expect((response("/echo")?["trailers"] as? [String: String])?["x-echo-trailer"] == "sent")
        #expect(response("/upload")?["text"] as? String == "\(checksum(pattern(Self.big))[0]) \(checksum(pattern(Self.big))[1])")
        #expect(response("/big")?["checksum"] as? [Int] == checksum(pattern(Self.big)))
        #expect(response("/style.css")?["pushed"] as? Bool == true)
        #expect(response("/style.css")?["text"] as? String == "body{color:red}")
        #expect(response("/pushed")?["text"] as? String == "page")
        #expect(responses.allSatisfy { $0["status"] as? String == "200" })
        // The upload went through our 16 KiB window: the request body arrived whole.
        #expect(requests.values.first { $0.path == "/upload" }.map { checksum($0.body) } == checksum(pattern(Self.big)))
    }

    @Test func ourClientAgainstPythonH2Server() throws {
        var configuration = HTTP2Configuration()
        configuration.initialWindowSize = 16_384
        configuration.enablePush = true
        var client = HTTP2Connection(role: .client, configuration: configuration)
        let peer = try PythonH2Peer(role: "server")
        func request(_ method: String, _ path: String) -> [HPACKHeaderField] {
            [HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "http"), HPACKHeaderField(":path", path), HPACKHeaderField(":authority", "localhost")]
        }
        var pump = BodyPump()
        var responses: [UInt32: (status: String, body: [UInt8], trailers: [HPACKHeaderField], done: Bool)] = [:]
        var paths: [UInt32: String] = [:]
        for path in ["/hello", "/big", "/pushed"] {
            let id = try client.startRequest(request("GET", path), endStream: true)
            paths[id] = path
        }
        let echo = try client.startRequest(request("POST", "/echo"), endStream: false)
        paths[echo] = "/echo"
        try pump.add(echo, Array("ping-pong".utf8), trailers: [HPACKHeaderField("x-request-trailer", "sent")], on: &client)
        // The upload starts once the server's SETTINGS (its 16 KiB window) is in: h2 cannot
        // return credit owed from before a window cut (its window manager only re-checks when
        // more data is acknowledged), so a body sent under the default 64 KiB window stalls it.
        var upload: UInt32?
        var result: [String: Any]?
        var goawaySent = false
        var outgoing = client.takeOutput()
        for _ in 0..<20_000 {
            let (kind, payload) = try peer.exchange(outgoing)
            if kind == 0x45 {
                result = try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
                break
            }
            var events = HTTP2EventCollector()
            try client.receive(payload, now: 0, handler: &events)
            for event in events.events {
                switch event {
                case .settingsChanged where upload == nil:
                    let id = try client.startRequest(request("POST", "/upload") + [HPACKHeaderField("content-length", "\(Self.big)")], endStream: false)
                    paths[id] = "/upload"
                    upload = id
                    try pump.add(id, pattern(Self.big), on: &client)
                case .pushPromise(_, let promised, let fields):
                    paths[promised] = fields.first { $0.name == ":path" }?.value
                case .headers(let id, let fields, let end):
                    responses[id, default: ("", [], [], false)].status = fields.first { $0.name == ":status" }?.value ?? ""
                    if end { responses[id]?.done = true }
                case .data(let id, let bytes, let end):
                    responses[id, default: ("", [], [], false)].body += bytes
                    if end { responses[id]?.done = true }
                case .trailers(let id, let fields):
                    responses[id]?.trailers = fields
                    responses[id]?.done = true
                default:
                    break
                }
            }
            try pump.pump(&client)
            if !goawaySent && responses.count == 6 && responses.values.allSatisfy(\.done) {
                client.sendGoaway(code: .noError)
                goawaySent = true
            }
            outgoing = client.takeOutput()
        }
        let served = try #require(result, "peer log: \(peer.log.suffix(2_000)), responses: \(responses.mapValues { ($0.status, $0.body.count, $0.done) })")
        func response(_ path: String) -> (status: String, body: [UInt8], trailers: [HPACKHeaderField], done: Bool)? {
            paths.first { $0.value == path }.flatMap { responses[$0.key] }
        }
        #expect(served["error_code"] as? Int == 0)
        #expect(response("/hello")?.body == Array("hello world".utf8))
        #expect(response("/hello")?.trailers == [HPACKHeaderField("x-trailer", "done")])
        #expect(response("/echo")?.body == Array("ping-pong".utf8))
        #expect(response("/echo")?.trailers == [HPACKHeaderField("x-echo-trailer", "sent")])
        #expect(response("/big").map { checksum($0.body) } == checksum(pattern(Self.big)))
        #expect(response("/style.css")?.body == Array("body{color:red}".utf8))
        #expect(response("/pushed")?.body == Array("page".utf8))
        let uploadSum = checksum(pattern(Self.big))
        #expect(response("/upload").map { String(decoding: $0.body, as: UTF8.self).replacingOccurrences(of: " ", with: "") } == "[\(uploadSum[0]),\(uploadSum[1])]")
        let received = served["requests"] as? [[String: Any]] ?? []
        #expect(received.first { $0["path"] as? String == "/upload" }?["checksum"] as? [Int] == checksum(pattern(Self.big)))
        #expect((received.first { $0["path"] as? String == "/echo" }?["trailers"] as? [String: String])?["x-request-trailer"] == "sent")
        #expect(responses.values.allSatisfy { $0.status == "200" })
    }
}
