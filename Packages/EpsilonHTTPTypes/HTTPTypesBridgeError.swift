/// Why a head received by an Epsilon machine cannot become a swift-http-types value.
///
/// The machines have already checked their input against the RFCs; what is left are the few
/// rules swift-http-types adds of its own (a method it can name, a value it can hold).
public struct HTTPTypesBridgeError: Error, Hashable, Sendable {
    /// The rule the head broke.
    public enum Rule: Hashable, Sendable {
        /// The method is not an RFC 9110 §9.1 token.
        case invalidMethod
        /// The request target is neither origin-, absolute-, authority- nor asterisk-form.
        case invalidTarget
        /// A field name is not an RFC 9110 §5.1 token.
        case invalidFieldName
        /// A field value holds a byte RFC 9110 §5.5 forbids.
        case invalidFieldValue
        /// An HTTP/2 header block lacks a pseudo-header the message needs (RFC 9113 §8.3).
        case missingPseudoHeader
        /// An HTTP/2 header block has a pseudo-header the message may not have, or one twice.
        case unexpectedPseudoHeader
        /// A status code outside 100...999.
        case invalidStatus
    }

    /// The rule the head broke.
    public var rule: Rule
    /// The field, method or target at fault, as received (lossy UTF-8), for logs.
    public var detail: String

    /// Makes an error.
    public init(_ rule: Rule, detail: String = "") {
        self.rule = rule
        self.detail = detail
    }
}
