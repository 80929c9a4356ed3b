// Fuzzes WebSocketDeflateDecompressor (permessage-deflate, RFC 7692) with arbitrary compressed
// message payloads and a small inflated-size limit.
// Input: a configuration byte (bit 0 no context takeover, bits 1-2 the limit 1/100/1000/4096
// octets), then operations, each an operation byte: low two bits 0 a piece of the current
// message (a length byte, then that many bytes), 1 the end of the message (finish), 2 an
// abandoned message (reset), 3 a longer piece (two length bytes, little-endian).
// Checks, besides "no crash": the inflated bytes handed out for one message never pass the
// limit (an oversized message throws messageTooLarge instead), no piece passes 16 KiB,
// `inflatedCount` is what was handed out, and after an error and a reset the decompressor
// takes the next message.
import EpsilonWebSocket
import EpsilonWebSocketDeflate
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let limit = [1, 100, 1000, 4096][Int(flags >> 1 & 3)]
    let decompressor = WebSocketDeflateDecompressor(noContextTakeover: flags & 1 != 0, maxMessageSize: limit)
    var delivered = 0
    var failed = false
    var sum = 0

    func take(_ piece: UnsafeRawBufferPointer) throws(WebSocketError) {
        fuzzCheck(!piece.isEmpty && piece.count <= 16 * 1024, "an inflated piece of \(piece.count)")
        delivered += piece.count
        fuzzCheck(delivered <= limit, "\(delivered) inflated octets handed out, limit \(limit)")
        for byte in piece { sum &+= Int(byte) }  // ASan checks the piece is readable
    }

    func afterCall(_ thrown: WebSocketError?) {
        switch thrown {
        case nil:
            fuzzCheck(decompressor.inflatedCount == delivered, "inflatedCount \(decompressor.inflatedCount), handed out \(delivered)")
        case let error?:
            fuzzCheck(error.rule == .messageTooLarge || error.rule == .invalidCompressedData, "unexpected error \(error)")
            if error.rule == .messageTooLarge {
                fuzzCheck(decompressor.inflatedCount > limit, "messageTooLarge at \(decompressor.inflatedCount) of \(limit)")
            }
            failed = true
        }
    }

    while !input.isAtEnd {
        let operation = input.byte()
        switch operation & 3 {
        case 0, 3:
            let piece = operation & 3 == 0 ? input.lengthPrefixed() : input.take(Int(input.uint16()))
            if failed { continue }  // the connection would have failed: wait for a reset
            do {
                try decompressor.decompress(piece, take)
                afterCall(nil)
            } catch {
                afterCall(error)
            }
        case 1:
            if failed { continue }
            do {
                try decompressor.finish(take)
                // finish() starts the next message: the count restarts.
                fuzzCheck(decompressor.inflatedCount == 0, "finish left inflatedCount \(decompressor.inflatedCount)")
                delivered = 0
            } catch {
                afterCall(error)
            }
        default:
            decompressor.reset()
            fuzzCheck(decompressor.inflatedCount == 0, "reset left inflatedCount \(decompressor.inflatedCount)")
            delivered = 0
            failed = false
        }
    }
    _ = sum
    return 0
}
