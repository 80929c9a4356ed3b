/// The static-file path decoder, for the fuzzer (SPI, not API): the decoding a static route
/// applies to the rest of a request path below its mount point.
@_spi(EpsilonFuzz)
public enum HTTPStaticPathFuzzing {
    /// Decodes `raw` (percent-encoded, below the mount point's `/`): status 200 with the
    /// decoded segments, or the refusal's status (400 malformed, 403 hidden) and no segments.
    public static func decode(_ raw: UnsafeRawBufferPointer, allowHidden: Bool)
        -> (status: Int, segments: [String], endsWithSlash: Bool) {
        switch StaticPathDecoder.decode(raw, allowHidden: allowHidden) {
        case .success(let path): (200, path.segments, path.endsWithSlash)
        case .failure(.malformed): (400, [], false)
        case .failure(.hidden): (403, [], false)
        }
    }
}
