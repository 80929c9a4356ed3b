/// An error found while decoding a header block, naming the RFC rule that was broken and where.
///
/// Every decoding error is a COMPRESSION_ERROR in HTTP/2 terms (RFC 9113 §4.3): the decoder that
/// threw it is unusable from then on and every later call throws ``Rule/decoderUnusable``.
public struct HPACKError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule that was broken.
    public enum Rule: String, Hashable, Sendable {
        /// An integer ran past the end of the block (RFC 7541 §5.1).
        case truncatedInteger
        /// An integer used more than 5 continuation bytes.
        case integerTooLong
        /// An integer's value does not fit in 32 bits.
        case integerOverflow
        /// A string's length says more octets than the block holds (RFC 7541 §5.2).
        case truncatedString
        /// A string is longer than the configured maximum string length.
        case stringTooLong
        /// An index of 0 was used (RFC 7541 §6.1).
        case indexZero
        /// An index points past the static and dynamic tables (RFC 7541 §2.3.3).
        case indexOutOfRange
        /// A Huffman string contains the EOS symbol (RFC 7541 §5.2).
        case huffmanEOS
        /// A Huffman string ends with more than 7 bits of padding (RFC 7541 §5.2).
        case huffmanPaddingTooLong
        /// A Huffman string's padding is not the most significant bits of EOS (RFC 7541 §5.2).
        case huffmanPaddingNotOnes
        /// The decoded header list exceeds the configured maximum (RFC 9113 §6.5.2 counting).
        case headerListTooLarge
        /// A table size update exceeds the limit announced in SETTINGS (RFC 7541 §6.3).
        case tableSizeUpdateAboveLimit
        /// More than two table size updates at the start of a block (RFC 7541 §4.2).
        case tooManyTableSizeUpdates
        /// A table size update after the first field of a block (RFC 7541 §4.2).
        case tableSizeUpdateNotAtStart
        /// The limit was lowered in SETTINGS but the block does not start with a size update
        /// at or below it (RFC 7541 §4.2).
        case missingTableSizeUpdate
        /// A field value carries CR, LF or NUL (RFC 9113 §8.2.1).
        case forbiddenCharacterInValue
        /// The decoder already failed and must not be used again (RFC 7541 §2.2 ¶3).
        case decoderUnusable
    }

    /// The rule that was broken.
    public let rule: Rule
    /// The offset in the header block of the representation or byte at fault.
    public let offset: Int

    /// Makes an error for `rule` at byte `offset` of the block.
    public init(_ rule: Rule, offset: Int) {
        self.rule = rule
        self.offset = offset
    }

    /// The section of the RFC the broken rule comes from, such as `"RFC 7541 §5.2"`.
    public var section: String {
        switch rule {
        case .truncatedInteger, .integerTooLong, .integerOverflow: "RFC 7541 §5.1"
        case .truncatedString, .stringTooLong, .huffmanEOS, .huffmanPaddingTooLong, .huffmanPaddingNotOnes:
            "RFC 7541 §5.2"
        case .indexZero: "RFC 7541 §6.1"
        case .indexOutOfRange: "RFC 7541 §2.3.3"
        case .headerListTooLarge: "RFC 9113 §6.5.2"
        case .tableSizeUpdateAboveLimit: "RFC 7541 §6.3"
        case .tooManyTableSizeUpdates, .tableSizeUpdateNotAtStart, .missingTableSizeUpdate: "RFC 7541 §4.2"
        case .forbiddenCharacterInValue: "RFC 9113 §8.2.1"
        case .decoderUnusable: "RFC 7541 §2.2"
        }
    }

    /// A one-line description such as `indexOutOfRange at offset 3`.
    public var description: String { "\(rule.rawValue) at offset \(offset)" }
}
