public import HTTPTypes

extension HTTPFields {
    /// Appends one field line received as bytes (a view into a machine's input).
    ///
    /// The name is lower-cased by swift-http-types' name type; the value is kept as received.
    /// - Throws: ``HTTPTypesBridgeError`` with `.invalidFieldName` or `.invalidFieldValue`.
    public mutating func append(
        name: UnsafeRawBufferPointer,
        value: UnsafeRawBufferPointer
    ) throws(HTTPTypesBridgeError) {
        try append(name: name, value: value, valueChecked: false)
    }

    /// Appends one field line received as bytes; `valueChecked` says the machine already
    /// refused every byte `HTTPField.isValidValue` refuses (no leniency let one through).
    /// A name spelled as one of the usual ones reuses a prepared `HTTPField.Name`; strings are
    /// made from typed buffers (the standard library's fast path, not its generic one).
    package mutating func append(
        name: UnsafeRawBufferPointer,
        value: UnsafeRawBufferPointer,
        valueChecked: Bool
    ) throws(HTTPTypesBridgeError) {
        let fieldName: HTTPField.Name
        if let known = HTTPFieldKnownNames.name(name) {
            fieldName = known
        } else {
            let nameText = Self.text(name)
            guard let parsed = HTTPField.Name(nameText) else {
                throw HTTPTypesBridgeError(.invalidFieldName, detail: nameText)
            }
            fieldName = parsed
        }
        if !valueChecked {
            guard HTTPField.isValidValue(value) else {
                throw HTTPTypesBridgeError(.invalidFieldValue, detail: fieldName.rawName)
            }
        }
        append(HTTPField(name: fieldName, value: Self.text(value)))
    }

    static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }
}
