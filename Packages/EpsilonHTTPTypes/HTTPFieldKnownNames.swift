import HTTPTypes

/// Prepared `HTTPField.Name`s for the field names seen most, matched byte for byte (as
/// registered and lower-cased): a name received that way skips building and checking a string.
enum HTTPFieldKnownNames {
    private struct Known {
        let bytes: [UInt8]
        let name: HTTPField.Name
    }

    private static let table: [Known] = {
        let names: [HTTPField.Name] = [
            .contentLength, .contentType, .date, .server, .connection, .transferEncoding,
            .contentEncoding, .cacheControl, .eTag, .lastModified, .location, .setCookie, .vary,
            .acceptRanges, .expires, HTTPField.Name("Keep-Alive")!,
            .userAgent, .accept, .acceptEncoding, .acceptLanguage, .cookie, .authorization,
            .origin, .referer, .ifNoneMatch, .ifModifiedSince, .range, .upgrade,
        ]
        var known: [Known] = []
        for name in names {
            known.append(Known(bytes: Array(name.rawName.utf8), name: name))
            if name.rawName != name.canonicalName, let lower = HTTPField.Name(name.canonicalName) {
                known.append(Known(bytes: Array(name.canonicalName.utf8), name: lower))
            }
        }
        return known
    }()

    /// The prepared name spelled exactly as `bytes`, if any.
    static func name(_ bytes: UnsafeRawBufferPointer) -> HTTPField.Name? {
        let count = bytes.count
        guard let last = bytes.last else { return nil }
        return table.withUnsafeBufferPointer { known -> HTTPField.Name? in
            for candidate in known where candidate.bytes.count == count && candidate.bytes[count - 1] == last {
                if candidate.bytes.withUnsafeBytes({ $0.elementsEqual(bytes) }) { return candidate.name }
            }
            return nil
        }
    }
}
