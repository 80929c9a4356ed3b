// Fuzzes HTTP2FrameDecoder with arbitrary bytes: frames are decoded one after another until the
// decoder needs more bytes or throws.
// Input: a configuration byte (bits 0-1 SETTINGS_MAX_FRAME_SIZE 16384/16385/65536/16777215),
// then the stream of frames (no preface).
// Checks, besides "no crash": a frame takes exactly 9 + its length octets, within the bytes
// given and the size limit; every payload view lies inside that frame's payload; `nil` only
// when the frame is incomplete; a SETTINGS view holds whole entries.
import EpsilonHTTP2
import FuzzSupport

private func check(_ view: UnsafeRawBufferPointer?, inside payload: UnsafeRawBufferPointer, _ what: String) {
    guard let view, view.count > 0 else { return }
    let start = view.baseAddress! - payload.baseAddress!
    fuzzCheck(start >= 0 && start + view.count <= payload.count,
              "\(what) view at \(start)+\(view.count) outside a payload of \(payload.count)")
}

private func check(_ frame: HTTP2FrameView, payload: UnsafeRawBufferPointer) {
    switch frame.payload {
    case .data(let body, let padding):
        check(body, inside: payload, "DATA body")
        check(padding, inside: payload, "DATA padding")
        fuzzCheck(body.count + (padding.map { $0.count + 1 } ?? 0) == payload.count, "DATA parts do not add up")
    case .headers(let priority, let fragment, let padding):
        check(fragment, inside: payload, "HEADERS fragment")
        check(padding, inside: payload, "HEADERS padding")
        let parts = fragment.count + (padding.map { $0.count + 1 } ?? 0) + (priority == nil ? 0 : 5)
        fuzzCheck(parts == payload.count, "HEADERS parts add up to \(parts), payload \(payload.count)")
    case .pushPromise(let promised, let fragment, let padding):
        check(fragment, inside: payload, "PUSH_PROMISE fragment")
        check(padding, inside: payload, "PUSH_PROMISE padding")
        fuzzCheck(promised != 0 && promised & 1 == 0 && promised <= HTTP2Connection.maxStreamID, "promised stream \(promised)")
    case .settings(let view):
        fuzzCheck(view.bytes.count % 6 == 0 && view.bytes.count == payload.count, "SETTINGS view of \(view.bytes.count)")
        var count = 0
        for _ in view { count += 1 }
        fuzzCheck(count == view.count, "SETTINGS iterated \(count) of \(view.count)")
    case .goaway(let last, _, let debug):
        check(debug, inside: payload, "GOAWAY debug data")
        fuzzCheck(last <= HTTP2Connection.maxStreamID && debug.count == payload.count - 8, "GOAWAY fields")
    case .windowUpdate(let increment):
        fuzzCheck(increment != 0 && increment <= HTTP2Connection.maxStreamID, "WINDOW_UPDATE increment \(increment)")
    case .continuation(let fragment):
        check(fragment, inside: payload, "CONTINUATION fragment")
    case .priorityUpdate(let stream, let value):
        check(value, inside: payload, "PRIORITY_UPDATE value")
        fuzzCheck(stream <= HTTP2Connection.maxStreamID, "PRIORITY_UPDATE stream \(stream)")
        _ = HTTP2Priority(fieldValue: value)
    case .unknown(let bytes):
        check(bytes, inside: payload, "unknown payload")
    case .priority, .rstStream, .ping:
        break
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let decoder = HTTP2FrameDecoder(maxFrameSize: [16_384, 16_385, 65_536, HTTP2Connection.maxAllowedFrameSize][Int(flags & 3)])
    var bytes = input.rest()
    while true {
        let header = HTTP2FrameDecoder.header(bytes)
        let result: (frame: HTTP2FrameView, consumed: Int)?
        do {
            result = try decoder.decode(bytes)
        } catch {
            fuzzCheck(header != nil, "an error \(error) before 9 octets")
            fuzzCheck(error.streamID == header!.streamID, "error on stream \(error.streamID), frame on \(header!.streamID)")
            return 0
        }
        guard let (frame, consumed) = result else {
            if let header {
                fuzzCheck(header.length <= decoder.maxFrameSize, "nil for a frame of \(header.length) over the limit")
                fuzzCheck(bytes.count < HTTP2FrameHeader.size + header.length, "nil for a complete frame")
            }
            return 0
        }
        fuzzCheck(header != nil && frame.header == header!, "frame header \(frame.header) is not the one read")
        fuzzCheck(consumed == HTTP2FrameHeader.size + frame.header.length && consumed <= bytes.count,
                  "consumed \(consumed) for a frame of \(frame.header.length) in \(bytes.count) octets")
        fuzzCheck(frame.header.length <= decoder.maxFrameSize, "frame of \(frame.header.length) over the limit")
        fuzzCheck(frame.header.streamID <= HTTP2Connection.maxStreamID, "stream \(frame.header.streamID) has the reserved bit")
        check(frame, payload: UnsafeRawBufferPointer(rebasing: bytes[HTTP2FrameHeader.size..<consumed]))
        bytes = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
    }
}
