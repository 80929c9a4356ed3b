/// Why an ``HTTP1Parser`` or an ``HTTP1Connection`` rejected its peer's input, and where.
///
/// The fields follow the contract every Epsilon machine shares (see "Driving a machine"):
/// ``rule`` names the broken rule, ``offset`` the byte, ``section`` the RFC section.
/// After throwing, the parser stays failed: every further call throws the same error.
public struct HTTP1ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule the input broke.
    public var rule: Rule
    /// The offset of the offending byte, counted from the first byte the parser ever received.
    public var offset: Int

    /// Creates an error for a broken rule at a stream offset.
    public init(_ rule: Rule, at offset: Int) {
        self.rule = rule
        self.offset = offset
    }

    /// The RFC section the rule comes from, as text (`"RFC 9112 §6.3"`), or `"configured limit"`
    /// for a limit of ``HTTP1Configuration``.
    public var section: String { rule.section }

    /// A readable summary: the rule and the offset.
    public var description: String { "\(rule) at byte \(offset)" }

    /// The rules an HTTP/1.1 message can break.
    public enum Rule: String, Sendable, Equatable, CaseIterable {
        /// A method byte is not a token character (RFC 9110 §9.1).
        case invalidMethod
        /// The method is not followed by exactly one space (RFC 9112 §3).
        case expectedSpaceAfterMethod
        /// A request-target byte is whitespace, a control byte or non-ASCII (RFC 9112 §3.2).
        case invalidTarget
        /// The request-target is longer than the configured limit.
        case targetTooLong
        /// The HTTP-version is not of the form `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3).
        case invalidVersion
        /// A well-formed `HTTP/x.y` other than 1.0 and 1.1 (a server answers `505`).
        case unsupportedVersion
        /// The status code is not three digits followed by a space or the line end (RFC 9112 §4).
        case invalidStatus
        /// The reason phrase holds a control byte (RFC 9112 §4).
        case invalidReasonPhrase
        /// A line ends in LF without CR (RFC 9112 §2.2).
        case bareLF
        /// A CR is not followed by LF (RFC 9112 §2.2).
        case bareCR
        /// Whitespace follows the start line before the first field (RFC 9112 §2.2).
        case whitespaceAfterStartLine
        /// A field name is empty or holds a non-token byte (RFC 9110 §5.1).
        case invalidFieldName
        /// Whitespace between a field name and the colon (RFC 9112 §5.1).
        case whitespaceBeforeColon
        /// A field line has no colon.
        case missingColon
        /// A field value holds a control byte (RFC 9110 §5.5).
        case invalidFieldValue
        /// A field line continues the previous one with leading whitespace (RFC 9112 §5.2).
        case obsoleteLineFolding
        /// The head is larger than the configured limit.
        case headTooLarge
        /// The head holds more field lines than the configured limit.
        case tooManyFields
        /// Content-Length is not a decimal number, or overflows (RFC 9110 §8.6).
        case invalidContentLength
        /// Content-Length appears with differing values or more than once (RFC 9110 §8.6).
        case conflictingContentLength
        /// A request carries both Transfer-Encoding and Content-Length (RFC 9112 §6.3 ¶3).
        case contentLengthWithTransferEncoding
        /// A request's final transfer coding is not `chunked` (RFC 9112 §6.3 ¶4).
        case transferEncodingNotChunked
        /// `chunked` is applied more than once, or not last (RFC 9112 §6.1).
        case invalidTransferEncoding
        /// Transfer-Encoding in an HTTP/1.0 message, which cannot carry it (RFC 9112 §6.1).
        case transferEncodingInHTTP10
        /// An HTTP/1.1 request without a Host field, or with more than one (RFC 9112 §3.2).
        case missingOrDuplicateHost
        /// A chunk size is not hexadecimal, is missing, or overflows (RFC 9112 §7.1).
        case invalidChunkSize
        /// A chunk extension does not follow the grammar of RFC 9112 §7.1.1.
        case invalidChunkExtension
        /// The chunk-size line is longer than the configured limit.
        case chunkLineTooLong
        /// Chunk data is not followed by CRLF (RFC 9112 §7.1).
        case missingCRLFAfterChunk
        /// The body is larger than the configured limit.
        case bodyTooLarge
        /// Bytes arrived after a message that closed the connection.
        case dataAfterClose
        /// The stream ended in the middle of a message.
        case unexpectedEndOfStream
        /// A request-target or URL does not follow the URI grammar (RFC 3986).
        case invalidURL
        /// A CONNECT request carries Content-Length or Transfer-Encoding: it has no content
        /// (RFC 9110 §9.3.6).
        case framingFieldInConnect
        /// A response arrived with no request left to answer (RFC 9112 §9.3).
        case responseWithoutRequest

        /// The RFC section the rule comes from, as text.
        public var section: String {
            switch self {
            case .invalidMethod: "RFC 9110 §9.1"
            case .expectedSpaceAfterMethod, .invalidTarget: "RFC 9112 §3"
            case .invalidVersion: "RFC 9112 §2.3"
            case .unsupportedVersion: "RFC 9110 §15.6.6"
            case .invalidStatus, .invalidReasonPhrase: "RFC 9112 §4"
            case .bareLF, .bareCR, .whitespaceAfterStartLine: "RFC 9112 §2.2"
            case .invalidFieldName: "RFC 9110 §5.1"
            case .whitespaceBeforeColon, .missingColon: "RFC 9112 §5.1"
            case .invalidFieldValue: "RFC 9110 §5.5"
            case .obsoleteLineFolding: "RFC 9112 §5.2"
            case .headTooLarge, .tooManyFields, .targetTooLong, .chunkLineTooLong, .bodyTooLarge: "configured limit"
            case .invalidContentLength, .conflictingContentLength: "RFC 9110 §8.6"
            case .contentLengthWithTransferEncoding: "RFC 9112 §6.3 ¶3"
            case .transferEncodingNotChunked: "RFC 9112 §6.3 ¶4"
            case .invalidTransferEncoding, .transferEncodingInHTTP10: "RFC 9112 §6.1"
            case .missingOrDuplicateHost: "RFC 9112 §3.2"
            case .invalidChunkSize, .missingCRLFAfterChunk: "RFC 9112 §7.1"
            case .invalidChunkExtension: "RFC 9112 §7.1.1"
            case .dataAfterClose, .responseWithoutRequest: "RFC 9112 §9.3"
            case .unexpectedEndOfStream: "RFC 9112 §8"
            case .invalidURL: "RFC 3986 §3"
            case .framingFieldInConnect: "RFC 9110 §9.3.6"
            }
        }
    }
}
