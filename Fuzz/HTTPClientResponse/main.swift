@_spi(EpsilonFuzz) import EpsilonHTTPClient

// The HTTP client's response paths on arbitrary server bytes: HTTP/1.1 (reader, framing, 1xx,
// keep-alive across up to 8 responses) and HTTP/2 (the client connection machine and the
// client's event filing for three multiplexed GETs, flow-control credit as chunks are taken),
// both with gzip/deflate decoding under a 1 MiB limit. Every failure must be typed; a trap, a
// leak or a hang is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = HTTPClientResponseFuzzing.run(bytes)
    _ = HTTPClientResponseFuzzing.runHTTP2(bytes)
    return 0
}
