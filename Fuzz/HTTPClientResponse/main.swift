@_spi(EpsilonFuzz) import EpsilonHTTPClient

// The HTTP client's response path (HTTP/1.1 reader, framing, 1xx, keep-alive across up to 8
// responses, gzip/deflate decoding with a 1 MiB limit) on arbitrary server bytes. Every failure
// must be a typed HTTPClientError; a trap, a leak or a hang is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = HTTPClientResponseFuzzing.run(bytes)
    return 0
}
