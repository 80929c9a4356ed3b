/// How a field is (or is to be) represented in a header block (RFC 7541 §6).
public enum HPACKFieldRepresentation: UInt8, Hashable, Sendable {
    /// Indexed header field: the whole field comes from a table (RFC 7541 §6.1).
    case indexed
    /// Literal with incremental indexing: added to the dynamic table (RFC 7541 §6.2.1).
    case incrementalIndexing
    /// Literal without indexing: not added, an intermediary may index it (RFC 7541 §6.2.2).
    case withoutIndexing
    /// Literal never indexed: must be forwarded as a literal by every hop (RFC 7541 §6.2.3).
    case neverIndexed
}

/// How the encoder is to write one field's literal (the indexing decision of RFC 7541 §6.2).
public enum HPACKFieldIndexing: UInt8, Hashable, Sendable {
    /// Add the field to the dynamic table; later blocks can refer to it by index.
    case incremental
    /// Do not add the field to the dynamic table.
    case withoutIndexing
    /// Never add it, and ask every intermediary never to (sensitive values such as passwords).
    case neverIndexed
}

/// A header field owned by the caller: the convenience form for encoding and for tests.
///
/// The hot paths never build one: the decoder hands out ``HPACKHeaderFieldView``s.
public struct HPACKHeaderField: Hashable, Sendable, CustomStringConvertible {
    /// The field name (lowercase in HTTP/2; the codec does not check).
    public var name: String
    /// The field value.
    public var value: String
    /// The indexing the encoder must use for this field; `nil` lets the encoder's
    /// ``HPACKIndexingPolicy`` decide. The decoder sets it from the representation it read
    /// (`nil` for an indexed field).
    public var indexing: HPACKFieldIndexing?

    /// Makes a field; `indexing` of `nil` leaves the choice to the encoder's policy.
    ///
    /// Both strings are made contiguous UTF-8 here, so encoding them later reads them in
    /// place without a temporary copy.
    public init(_ name: String, _ value: String, indexing: HPACKFieldIndexing? = nil) {
        self.name = name
        self.value = value
        self.indexing = indexing
        self.name.makeContiguousUTF8()
        self.value.makeContiguousUTF8()
    }

    /// `name: value`.
    public var description: String { "\(name): \(value)" }
}

/// A decoded header field as views of bytes owned by someone else.
///
/// `name` and `value` point into the header block passed to the decoder, into the decoder's
/// dynamic table, into the static table or into a scratch buffer the decoder reuses. They are
/// valid only during the call that hands out the view: copy what you keep (``nameString``,
/// ``valueString``, ``field``). This is what lets the decoder deliver fields without one
/// allocation each.
public struct HPACKHeaderFieldView {
    /// The name's bytes; valid only during the handler call.
    public let name: UnsafeRawBufferPointer
    /// The value's bytes; valid only during the handler call.
    public let value: UnsafeRawBufferPointer
    /// How the field was represented in the block.
    public let representation: HPACKFieldRepresentation
    /// Whether the value carries CR, LF or NUL; only ever `true` when the decoder is
    /// configured with ``HPACKHeaderBlockDecoder/ForbiddenCharacterPolicy/flag``.
    public let hasForbiddenCharacter: Bool

    /// Makes a view; the caller vouches that both buffers stay valid while the view is used.
    public init(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        representation: HPACKFieldRepresentation, hasForbiddenCharacter: Bool = false
    ) {
        self.name = name
        self.value = value
        self.representation = representation
        self.hasForbiddenCharacter = hasForbiddenCharacter
    }

    /// The name copied into a `String` (allocates; invalid UTF-8 is repaired).
    public var nameString: String { String(decoding: name, as: UTF8.self) }
    /// The value copied into a `String` (allocates; invalid UTF-8 is repaired).
    public var valueString: String { String(decoding: value, as: UTF8.self) }

    /// RFC 9113 §6.5.2 size: name and value octets plus 32.
    public var size: Int { name.count + value.count + 32 }

    /// The field copied into an owned ``HPACKHeaderField`` (allocates).
    public var field: HPACKHeaderField {
        let indexing: HPACKFieldIndexing? = switch representation {
        case .indexed: nil
        case .incrementalIndexing: .incremental
        case .withoutIndexing: .withoutIndexing
        case .neverIndexed: .neverIndexed
        }
        return HPACKHeaderField(nameString, valueString, indexing: indexing)
    }

    /// Whether the name is exactly `text`, compared byte by byte without allocating.
    public func nameEquals(_ text: StaticString) -> Bool {
        bytesEqual(name, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Whether the value is exactly `text`, compared byte by byte without allocating.
    public func valueEquals(_ text: StaticString) -> Bool {
        bytesEqual(value, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// Byte equality of two views (empty views compare equal whatever their base).
@inline(__always)
func bytesEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    guard lhs.count > 0, let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
    if left == right { return true }
    var index = 0
    let count = lhs.count
    while index &+ 8 <= count {
        if left.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            != right.loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
        index &+= 8
    }
    while index < count {
        if lhs[index] != rhs[index] { return false }
        index &+= 1
    }
    return true
}

/// Receives decoded fields; the generic form of the decoder's callback, specialised by the
/// compiler (no closure or existential per field).
public protocol HPACKHeaderFieldHandler {
    /// Called once per field, in block order (the **handle** verb). The view is valid only
    /// during this call.
    mutating func handle(_ field: HPACKHeaderFieldView)
}
