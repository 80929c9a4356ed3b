import EpsilonHPACK
import EpsilonHTTP2
import Foundation

/// Turns a captured HTTP/2 byte stream (one direction) into printable lines, for
/// `epsilon inspect http2 FILE`: one line per frame, then its fields, header blocks decoded
/// (HEADERS/PUSH_PROMISE joined with their CONTINUATIONs, one HPACK context for the capture).
public enum HTTP2Inspector {
    /// A capture that breaks a framing or HPACK rule; carries the lines printed before.
    public struct InspectionError: Error, CustomStringConvertible {
        /// The lines described before the error, then the error line.
        public let output: String
        /// The partial output, error included.
        public var description: String { output }
    }

    /// Describes every frame in `bytes`. A client preface at the start is noted and skipped.
    ///
    /// Frames up to `maxFrameSize` octets are accepted (default 2^24-1: a capture may follow
    /// any SETTINGS). Throws ``InspectionError`` at the first frame or header block that
    /// breaks a rule, with the lines so far.
    public static func describe(_ bytes: [UInt8], maxFrameSize: Int = 16_777_215) throws(InspectionError) -> String {
        var lines: [String] = []
        var offset = 0
        if bytes.starts(with: HTTP2Connection.clientPreface) {
            lines.append("client preface (24 bytes)")
            offset = HTTP2Connection.clientPreface.count
        }
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(
            maxTableSize: 1 << 16, maxHeaderListSize: 1 << 24, maxStringLength: 1 << 20, forbiddenCharacters: .flag))
        var pendingBlock: [UInt8] = []
        var blockOpen = false
        let frameDecoder = HTTP2FrameDecoder(maxFrameSize: maxFrameSize)
        var number = 0
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count && failure == nil {
                let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
                let decoded: (frame: HTTP2FrameView, consumed: Int)?
                do throws(HTTP2FrameError) {
                    decoded = try frameDecoder.decode(rest)
                } catch {
                    failure = "error at byte \(offset): \(error)"
                    return
                }
                guard let (frame, consumed) = decoded else {
                    lines.append("incomplete frame: \(rest.count) bytes left at byte \(offset)")
                    return
                }
                let header = frame.header
                lines.append("#\(number) \(header.type) stream=\(header.streamID) length=\(header.length)\(flagText(header))")
                var fragment: UnsafeRawBufferPointer?
                let endHeaders = header.flags.contains(.endHeaders)
                switch frame.payload {
                case .data(let data, let padding):
                    lines.append("  data: \(data.count) bytes\(padding.map { ", padding \($0.count)" } ?? "")  \(preview(data))")
                case .headers(let priority, let block, let padding):
                    if let priority { lines.append("  priority: depends on \(priority.dependency)\(priority.exclusive ? " (exclusive)" : ""), weight \(Int(priority.weight) + 1)") }
                    if let padding { lines.append("  padding: \(padding.count)") }
                    fragment = block
                case .priority(let priority):
                    lines.append("  depends on \(priority.dependency)\(priority.exclusive ? " (exclusive)" : ""), weight \(Int(priority.weight) + 1)")
                case .rstStream(let code):
                    lines.append("  error: \(code)")
                case .settings(let view):
                    for setting in view { lines.append("  \(setting.parameter) = \(setting.value)") }
                case .pushPromise(let promised, let block, _):
                    lines.append("  promised stream: \(promised)")
                    fragment = block
                case .ping(let opaque):
                    lines.append("  opaque: 0x\(String(opaque, radix: 16))")
                case .goaway(let last, let code, let debug):
                    lines.append("  last stream: \(last), error: \(code)\(debug.isEmpty ? "" : ", debug: \(preview(debug))")")
                case .windowUpdate(let increment):
                    lines.append("  increment: \(increment)")
                case .continuation(let block):
                    if !blockOpen { lines.append("  (CONTINUATION outside a header block)") }
                    fragment = block
                case .priorityUpdate(let stream, let value):
                    lines.append("  stream \(stream): \(String(decoding: value, as: UTF8.self))")
                case .unknown(let payload):
                    lines.append("  unknown type, ignored: \(payload.count) bytes")
                }
                if let fragment {
                    if header.type != .continuation { pendingBlock.removeAll() }
                    pendingBlock.append(contentsOf: fragment)
                    blockOpen = !endHeaders
                    if !blockOpen {
                        do throws(HPACKError) {
                            try decoder.receive(pendingBlock) { field in
                                var line = "  \(printable(field.name)): \(printable(field.value))"
                                if field.hasForbiddenCharacter { line += "  [CR/LF/NUL in value]" }
                                lines.append(line)
                            }
                        } catch {
                            failure = "error: header block: \(error)"
                            return
                        }
                    }
                }
                number += 1
                offset += consumed
            }
        }
        if let failure {
            lines.append(failure)
            throw InspectionError(output: lines.joined(separator: "\n"))
        }
        if blockOpen { lines.append("header block not finished (no END_HEADERS)") }
        return lines.joined(separator: "\n")
    }

    private static func flagText(_ header: HTTP2FrameHeader) -> String {
        var names: [String] = []
        let flags = header.flags
        switch header.type {
        case .data:
            if flags.contains(.endStream) { names.append("END_STREAM") }
            if flags.contains(.padded) { names.append("PADDED") }
        case .headers:
            if flags.contains(.endStream) { names.append("END_STREAM") }
            if flags.contains(.endHeaders) { names.append("END_HEADERS") }
            if flags.contains(.padded) { names.append("PADDED") }
            if flags.contains(.priority) { names.append("PRIORITY") }
        case .settings, .ping:
            if flags.contains(.ack) { names.append("ACK") }
        case .pushPromise:
            if flags.contains(.endHeaders) { names.append("END_HEADERS") }
            if flags.contains(.padded) { names.append("PADDED") }
        case .continuation:
            if flags.contains(.endHeaders) { names.append("END_HEADERS") }
        default:
            break
        }
        return names.isEmpty ? "" : " [\(names.joined(separator: ","))]"
    }

    private static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }

    private static func preview(_ bytes: UnsafeRawBufferPointer) -> String {
        let shown = UnsafeRawBufferPointer(rebasing: bytes.prefix(48))
        return "\"\(printable(shown))\"\(bytes.count > 48 ? "..." : "")"
    }
}
