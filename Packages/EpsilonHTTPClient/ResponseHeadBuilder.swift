import EpsilonHTTP1
import EpsilonHTTPTypes
import HTTPTypes

/// Makes the owned `HTTPResponse` of a response head the HTTP/1.1 machine parsed: the same
/// value as EpsilonHTTPTypes' `HTTPResponse(http1Head:fields:in:)`, for less work per field.
///
/// - A name the machine received byte for byte as one of the usual response fields spells it
///   (`Content-Length`, `date`, …) reuses a prepared `HTTPField.Name` instead of building and
///   checking a string (the machine already checked it is a token).
/// - A value becomes a string through the standard library's fast path, and is checked once,
///   by `HTTPField`'s own legalizing initializer: the machine already
///   refused control bytes and trimmed whitespace (RFC 9110 §5.5), which is all
///   `HTTPField.isValidValue` checks, unless its leniencies let such bytes through
///   (`valuesChecked` false); then each value is checked here as the bridge does.
/// - The fields are stored with one allocation (capacity reserved).
enum ResponseHeadBuilder {
    /// A usual field name: its bytes as received, and the name to use for them.
    private struct KnownName {
        let bytes: [UInt8]
        let name: HTTPField.Name
    }

    /// The names most responses carry, as servers usually spell them (title case, and the
    /// lower case of HTTP/2-minded servers).
    private static let knownNames: [KnownName] = {
        let names: [HTTPField.Name] = [
            .contentLength, .contentType, .date, .server, .connection, .transferEncoding,
            .contentEncoding, .cacheControl, .eTag, .lastModified, .location, .setCookie, .vary,
            .acceptRanges, .expires, HTTPField.Name("Keep-Alive")!,
        ]
        var known: [KnownName] = []
        for name in names {
            known.append(KnownName(bytes: Array(name.rawName.utf8), name: name))
            if name.rawName != name.canonicalName, let lower = HTTPField.Name(name.canonicalName) {
                known.append(KnownName(bytes: Array(name.canonicalName.utf8), name: lower))
            }
        }
        return known
    }()

    /// The response for `head`, whose `fields` are ranges of `bytes`.
    static func response(_ head: HTTP1Head, fields: [HTTP1Field], in bytes: UnsafeRawBufferPointer,
                         valuesChecked: Bool) throws(HTTPTypesBridgeError) -> HTTPResponse {
        guard (100...999).contains(head.status) else {
            throw HTTPTypesBridgeError(.invalidStatus, detail: String(head.status))
        }
        var headerFields = HTTPFields()
        headerFields.reserveCapacity(fields.count)
        for field in fields {
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[field.name])
            let value = UnsafeRawBufferPointer(rebasing: bytes[field.value])
            let name: HTTPField.Name
            if let known = knownName(nameBytes) {
                name = known
            } else {
                let text = string(nameBytes)
                guard let parsed = HTTPField.Name(text) else { throw HTTPTypesBridgeError(.invalidFieldName, detail: text) }
                name = parsed
            }
            if !valuesChecked {
                guard HTTPField.isValidValue(value) else {
                    throw HTTPTypesBridgeError(.invalidFieldValue, detail: name.rawName)
                }
            }
            headerFields.append(HTTPField(name: name, value: string(value)))
        }
        let reason = string(UnsafeRawBufferPointer(rebasing: bytes[head.reason]))
        return HTTPResponse(status: HTTPResponse.Status(code: head.status, reasonPhrase: reason), headerFields: headerFields)
    }

    /// The bytes as a string, through the standard library's fast path for typed UTF-8 buffers
    /// (a raw buffer or a slice takes its generic path: five metadata lookups per string).
    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    /// The prepared name spelled exactly as `bytes`, if any: candidates are those of the same
    /// length and last byte (one or two for most names), compared whole.
    private static func knownName(_ bytes: UnsafeRawBufferPointer) -> HTTPField.Name? {
        let count = bytes.count
        guard let last = bytes.last else { return nil }
        return knownNames.withUnsafeBufferPointer { known -> HTTPField.Name? in
            for candidate in known where candidate.bytes.count == count && candidate.bytes[count - 1] == last {
                if candidate.bytes.withUnsafeBytes({ $0.elementsEqual(bytes) }) { return candidate.name }
            }
            return nil
        }
    }
}
