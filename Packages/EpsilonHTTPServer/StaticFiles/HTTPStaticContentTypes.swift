/// The `Content-Type` a static-file route gives each file, by extension (case-insensitive).
///
/// The built-in table covers the web's common types; text types carry `charset=utf-8`
/// (`text/*`, JavaScript, JSON, XML, SVG, web manifests). Unknown extensions get
/// ``defaultType`` (`application/octet-stream`). Add or replace entries with ``add(_:as:)``
/// or the subscript:
///
/// ```swift
/// var types = HTTPStaticContentTypes()
/// types.add("wgsl", as: "text/wgsl; charset=utf-8")
/// ```
public struct HTTPStaticContentTypes: Sendable {
    /// The type of a file whose extension is not in the table.
    public var defaultType = "application/octet-stream"
    private var table: [String: String]

    /// The built-in table.
    public init() { table = Self.builtIn }

    /// The type for extension `fileExtension` (without the dot); nil when not in the table.
    public subscript(fileExtension: String) -> String? {
        get { table[fileExtension.lowercased()] }
        set { table[fileExtension.lowercased()] = newValue }
    }

    /// Maps `fileExtension` (without the dot) to `contentType`.
    public mutating func add(_ fileExtension: String, as contentType: String) {
        self[fileExtension] = contentType
    }

    /// The type for a file name: by its last extension, else ``defaultType``.
    public func contentType(forFileName name: String) -> String {
        contentType(forNameIn: name[...])
    }

    /// The type for the file a path names (its last component), without splitting the path:
    /// an extension of up to 15 bytes is looked up with no heap allocation (a small string).
    func contentType(forPath path: String) -> String {
        let utf8 = path.utf8
        let start = utf8.lastIndex(of: UInt8(ascii: "/")).map { utf8.index(after: $0) } ?? utf8.startIndex
        return contentType(forNameIn: path[start...])
    }

    private func contentType(forNameIn name: Substring) -> String {
        guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")), dot != name.startIndex else { return defaultType }
        return table[name[name.utf8.index(after: dot)...].lowercased()] ?? defaultType
    }

    private static let utf8 = "; charset=utf-8"

    static let builtIn: [String: String] = [
        "html": "text/html" + utf8, "htm": "text/html" + utf8, "css": "text/css" + utf8,
        "js": "text/javascript" + utf8, "mjs": "text/javascript" + utf8,
        "json": "application/json" + utf8, "map": "application/json" + utf8,
        "webmanifest": "application/manifest+json" + utf8,
        "txt": "text/plain" + utf8, "md": "text/markdown" + utf8, "csv": "text/csv" + utf8,
        "xml": "application/xml" + utf8, "svg": "image/svg+xml" + utf8,
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "webp": "image/webp", "avif": "image/avif", "ico": "image/vnd.microsoft.icon", "bmp": "image/bmp",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
        "mp4": "video/mp4", "webm": "video/webm", "ogg": "audio/ogg", "mp3": "audio/mpeg",
        "wav": "audio/wav", "flac": "audio/flac",
        "pdf": "application/pdf", "wasm": "application/wasm", "zip": "application/zip",
        "gz": "application/gzip", "tar": "application/x-tar", "br": "application/octet-stream",
        "bin": "application/octet-stream",
    ]
}
