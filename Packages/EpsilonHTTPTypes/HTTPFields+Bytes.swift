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
        let nameText = String(decoding: name, as: UTF8.self)
        guard let fieldName = HTTPField.Name(nameText) else {
            throw HTTPTypesBridgeError(.invalidFieldName, detail: nameText)
        }
        guard HTTPField.isValidValue(value) else {
            throw HTTPTypesBridgeError(.invalidFieldValue, detail: nameText)
        }
        append(HTTPField(name: fieldName, value: value))
    }
}
