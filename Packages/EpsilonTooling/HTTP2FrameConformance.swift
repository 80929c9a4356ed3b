import EpsilonHTTP2
import Foundation

/// Runs http2jp/http2-frame-test-case files through the frame decoder and encoder.
///
/// Each `*.json` file with a `wire` (hex) is one case. Normal cases (`frame` set, `error`
/// null): the wire must decode to the described header and payload, and re-encoding the
/// decoded frame must give the wire back. Error cases (`frame` null): decoding must fail with
/// one of the listed error codes. Decoding uses the RFC's default settings.
public enum HTTP2FrameConformance {
    /// Why a run could not start.
    public struct RunError: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    /// Checks every case file under `folder` (searched recursively).
    ///
    /// Calls `log` once per failing case with a line naming the file and the reason. Returns
    /// the number of cases that passed and failed. Throws ``RunError`` when the folder holds no
    /// case file or a file is not a case.
    public static func run(folder: String, log: (String) -> Void) throws -> (passed: Int, failed: Int) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue,
              let enumerator = FileManager.default.enumerator(atPath: folder) else {
            throw RunError(description: "not a folder: \(folder)")
        }
        var files: [String] = []
        for case let relative as String in enumerator where relative.hasSuffix(".json") {
            files.append(relative)
        }
        files.sort()
        var passed = 0
        var failed = 0
        for relative in files {
            let path = (folder as NSString).appendingPathComponent(relative)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let hex = object["wire"] as? String else { continue }
            guard let wire = http2HexBytes(hex) else {
                throw RunError(description: "\(relative): wire is not hex")
            }
            if let problem = check(wire: wire, frame: object["frame"] as? [String: Any], errors: object["error"] as? [Int]) {
                failed += 1
                log("FAIL \(relative): \(problem)")
            } else {
                passed += 1
            }
        }
        guard passed + failed > 0 else { throw RunError(description: "no frame case under \(folder)") }
        return (passed, failed)
    }

    /// Checks one case; returns why it failed, or `nil` when it passed.
    public static func check(wire: [UInt8], frame expected: [String: Any]?, errors: [Int]?) -> String? {
        let decoder = HTTP2FrameDecoder()
        return wire.withUnsafeBytes { bytes -> String? in
            let decoded: (frame: HTTP2FrameView, consumed: Int)?
            do throws(HTTP2FrameError) {
                decoded = try decoder.decode(bytes)
            } catch {
                guard let errors else { return "unexpected error \(error)" }
                return errors.contains(Int(error.code.rawValue))
                    ? nil : "got \(error), expected one of \(errors.map { HTTP2ErrorCode(rawValue: UInt32($0)).description })"
            }
            guard let decoded else { return "wire holds no complete frame" }
            if let errors { return "decoded a \(decoded.frame.header.type) frame, expected an error in \(errors)" }
            guard let expected else { return "case has neither frame nor error" }
            if decoded.consumed != wire.count { return "frame used \(decoded.consumed) of \(wire.count) octets" }
            let header = decoded.frame.header
            let got: [String: Any] = [
                "length": header.length, "type": Int(header.type.rawValue),
                "flags": Int(header.flags.rawValue), "stream_identifier": Int(header.streamID),
            ]
            for key in ["length", "type", "flags", "stream_identifier"] {
                if !same(got[key], expected[key]) { return "\(key): got \(got[key] ?? "nil"), expected \(expected[key] ?? "nil")" }
            }
            let payload = fields(of: decoded.frame.payload)
            for (key, value) in expected["frame_payload"] as? [String: Any] ?? [:] {
                if !same(payload[key], value) {
                    return "\(key): got \(payload[key].map { "\($0)" } ?? "null"), expected \(value)"
                }
            }
            var encoded: [UInt8] = []
            HTTP2FrameEncoder.append(decoded.frame, into: &encoded)
            if encoded != wire { return "re-encoded as \(http2Hex(encoded)), expected \(http2Hex(wire))" }
            return nil
        }
    }

    /// The payload as the test-case format names its fields (absent optional fields omitted).
    static func fields(of payload: HTTP2FramePayload) -> [String: Any] {
        var fields: [String: Any] = [:]
        func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
        func padding(_ bytes: UnsafeRawBufferPointer?) {
            if let bytes {
                fields["padding_length"] = bytes.count
                fields["padding"] = text(bytes)
            }
        }
        func priority(_ priority: HTTP2PriorityFields?) {
            if let priority {
                fields["stream_dependency"] = Int(priority.dependency)
                fields["weight"] = Int(priority.weight) + 1
                fields["exclusive"] = priority.exclusive
            }
        }
        switch payload {
        case .data(let data, let pad):
            fields["data"] = text(data)
            padding(pad)
        case .headers(let prio, let fragment, let pad):
            fields["header_block_fragment"] = text(fragment)
            priority(prio)
            padding(pad)
        case .priority(let prio):
            priority(prio)
        case .rstStream(let code):
            fields["error_code"] = Int(code.rawValue)
        case .settings(let view):
            fields["settings"] = view.map { [Int($0.parameter.rawValue), Int($0.value)] }
        case .pushPromise(let promised, let fragment, let pad):
            fields["promised_stream_id"] = Int(promised)
            fields["header_block_fragment"] = text(fragment)
            padding(pad)
        case .ping(let opaque):
            let octets = (0..<8).map { UInt8(truncatingIfNeeded: opaque >> (56 - 8 * $0)) }
            fields["opaque_data"] = String(decoding: octets, as: UTF8.self)
        case .goaway(let last, let code, let debug):
            fields["last_stream_id"] = Int(last)
            fields["error_code"] = Int(code.rawValue)
            fields["additional_debug_data"] = text(debug)
        case .windowUpdate(let increment):
            fields["window_size_increment"] = Int(increment)
        case .continuation(let fragment):
            fields["header_block_fragment"] = text(fragment)
        case .priorityUpdate(let stream, let value):
            fields["prioritized_stream_id"] = Int(stream)
            fields["priority_field_value"] = text(value)
        case .unknown(let bytes):
            fields["payload"] = text(bytes)
        }
        return fields
    }

    /// JSON-ish equality: `nil` equals JSON null, numbers compare as integers, booleans as
    /// booleans, lists element by element.
    static func same(_ lhs: Any?, _ rhs: Any?) -> Bool {
        let left = lhs is NSNull ? nil : lhs
        let right = rhs is NSNull ? nil : rhs
        switch (left, right) {
        case (nil, nil): return true
        case (nil, _), (_, nil): return false
        case (let l as Bool, let r as NSNumber): return l == r.boolValue
        case (let l as Int, let r as NSNumber): return l == r.intValue
        case (let l as String, let r as String): return l == r
        case (let l as [Any], let r as [Any]):
            return l.count == r.count && zip(l, r).allSatisfy { same($0, $1) }
        default: return false
        }
    }
}

/// Hex text to bytes (whitespace ignored); `nil` if not hex.
func http2HexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8.filter { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 })
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = http2HexValue(digits[index]), let low = http2HexValue(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

private func http2HexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case 0x30...0x39: digit - 0x30
    case 0x41...0x46: digit - 0x41 + 10
    case 0x61...0x66: digit - 0x61 + 10
    default: nil
    }
}

/// Bytes as upper-case hex.
func http2Hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02X", $0) }.joined()
}
