// The HTML listing of a directory (only when the route enables listings): names sorted,
// HTML-escaped in the text and percent-encoded in the links, directories with a trailing `/`.

enum StaticDirectoryListing {
    static func page(title: String, entries: [(name: String, isDirectory: Bool)], truncated: Bool) -> String {
        var html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Index of \(escaped(title))</title></head>\n"
        html += "<body><h1>Index of \(escaped(title))</h1>\n<ul>\n"
        if title != "/" { html += "<li><a href=\"../\">../</a></li>\n" }
        for entry in entries.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            let shown = entry.name + (entry.isDirectory ? "/" : "")
            html += "<li><a href=\"./\(linkEncoded(entry.name))\(entry.isDirectory ? "/" : "")\">\(escaped(shown))</a></li>\n"
        }
        html += "</ul>\n"
        if truncated { html += "<p>(more entries left out)</p>\n" }
        html += "</body></html>\n"
        return html
    }

    /// `&`, `<`, `>`, `"` and `'` as character references.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Every byte but RFC 3986's unreserved ones percent-encoded (so a name cannot end the
    /// attribute, start a scheme or a query, or be read as a path separator).
    static func linkEncoded(_ name: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
