/// Why a content coding could not be produced or undone.
public struct HTTPContentCodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule that was broken.
    public enum Kind: Sendable, Equatable {
        /// Decoding would produce more than the limit given to the decoder (the associated value).
        case outputLimitExceeded(Int)
        /// The coded bytes are not valid gzip/zlib/deflate data (bad header, checksum, block).
        case corruptData
        /// The input ended before the coded stream did.
        case truncated
        /// Bytes follow the end of the coded stream.
        case trailingData
        /// The coding cannot be used here (an encoder for `identity`).
        case unsupportedCoding
        /// zlib reported an error that is not about the data (the zlib return code), e.g. no memory
        /// or an invalid compression level.
        case zlibFailure(Int32)
        /// The encoder was used after ``HTTPContentEncoder/finish(into:)`` without a reset.
        case usedAfterFinish
    }

    /// The rule that was broken.
    public var kind: Kind

    /// Creates an error of `kind`.
    public init(_ kind: Kind) { self.kind = kind }

    /// A one-line explanation.
    public var description: String {
        switch kind {
        case .outputLimitExceeded(let limit): "decoded content exceeds the limit of \(limit) bytes"
        case .corruptData: "corrupt compressed data"
        case .truncated: "compressed data ended before the end of the stream"
        case .trailingData: "bytes after the end of the compressed stream"
        case .unsupportedCoding: "unsupported content coding"
        case .zlibFailure(let code): "zlib failure (code \(code))"
        case .usedAfterFinish: "the encoder was used after finish() without reset()"
        }
    }
}
