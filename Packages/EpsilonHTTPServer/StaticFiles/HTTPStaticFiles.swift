#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import EpsilonHTTPTypes

/// Serves the files under a folder, for GET and HEAD: mount it on a router with
/// ``HTTPRouter/staticFiles(_:_:)``.
///
/// ```swift
/// var options = HTTPStaticFileOptions()
/// options.cacheControl = "public, max-age=3600"
/// try router.staticFiles("/assets", HTTPStaticFiles(root: "/var/www/assets", options: options))
/// ```
///
/// **What it answers.** A file: `200` with `Content-Type` (``HTTPStaticContentTypes``),
/// `Content-Length`, a strong `ETag` (`"INODE-SIZE-MTIME_NS"` in hex, see below),
/// `Last-Modified`, `Accept-Ranges: bytes` and the route's `Cache-Control`. A directory
/// without its trailing slash: `301` to the path with it; with it: its index file, else the
/// listing if enabled, else `404`.
///
/// **Validators** (RFC 9110 §13.2.2 order): `If-Match` (strong) or else
/// `If-Unmodified-Since` fail with `412`; `If-None-Match` (weak) or else `If-Modified-Since`
/// give `304`. **Ranges** (GET only): one range gives `206` with `Content-Range`; a range
/// starting at or past the end gives `416` with `Content-Range: bytes */LENGTH`; several
/// ranges are answered with the whole file (`200`), never `multipart/byteranges`, unless none
/// of them is satisfiable (`416`); empty list elements are skipped; `If-Range`
/// (an entity-tag compared strongly, or a date equal to `Last-Modified`) that does not hold
/// also gives the whole file.
///
/// **Precompressed siblings.** With `NAME.br` or `NAME.gz` next to `NAME` (regular files, not
/// symlinks) and an `Accept-Encoding` that allows `br` or `gzip` (q-values honoured, `br`
/// first on a tie), the sibling is served with `Content-Encoding`, the original's
/// `Content-Type` and its own ETag (suffix `-br` / `-gz`). With siblings on
/// (``HTTPStaticFileOptions/servesPrecompressed``) every answer for a file carries
/// `Vary: Accept-Encoding` (the selection may depend on it), and siblings are looked for only
/// when the request accepts `br` or `gzip`: a request without `Accept-Encoding` costs no probe.
///
/// **The ETag** is `"` + hex(inode) + `-` + hex(size) + `-` + hex(mtime in nanoseconds since
/// 1970) [+ `-br` / `-gz`] + `"`: it changes when the file is replaced, resized or touched.
///
/// **Safety: statuses by class.** The path after the mount point is percent-decoded once:
/// - `400`: a bad escape; an encoded `/`, `\` or NUL (`%2f %5c %00`) or control byte; a raw
///   backslash or control byte; invalid or overlong UTF-8; a `.` or `..` segment, raw or
///   encoded (`%2e%2e`); an empty segment (`a//b`, `//x`).
/// - `403`: a dot-file or dot-directory (`.git/…`, `..;`), unless
///   ``HTTPStaticFileOptions/servesHiddenFiles``; a path whose real path (every symlink
///   resolved) leaves the root, unless ``HTTPStaticFileOptions/followsSymlinksOutsideRoot``;
///   a file the server may not read.
/// - `404`: everything else that is not a readable regular file or directory under the root
///   (absent, a FIFO, a device, a file named with a trailing `/`).
/// The real path is checked, then the file is opened with `O_NOFOLLOW | O_NONBLOCK` and
/// checked again with `fstat`, so no path outside the root is served.
///
/// **Bodies** are read on the loop thread in bounded pieces (``HTTPStaticFileOptions/chunkSize``,
/// and never more than the connection or HTTP/2 stream can take now): a slow client holds at
/// most one piece plus the session's write bound, whatever the file's size.
public struct HTTPStaticFiles: Sendable {
    /// The root folder's real path.
    public let root: String
    /// How the folder is served.
    public let options: HTTPStaticFileOptions

    /// Serves `root` (resolved to its real path now).
    /// - Throws: ``HTTPStaticFileError`` when `root` cannot be resolved or is not a directory.
    public init(root: String, options: HTTPStaticFileOptions = HTTPStaticFileOptions()) throws(HTTPStaticFileError) {
        switch StaticFileSystem.realPath(root) {
        case .failure(let error): throw .rootUnavailable(path: root, errno: error.code)
        case .success(let resolved):
            var info = stat()
            guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw .rootNotADirectory(path: root) }
            self.root = resolved
        }
        self.options = options
    }

    // MARK: Answering

    /// Answers one request whose path below the mount point is `rest` (raw bytes).
    func respond(_ head: HTTPRequestHeadView, rest: UnsafeRawBufferPointer, sink: any HTTPResponseSink,
                 exchange id: HTTPExchangeID) -> (any HTTPServerExchange)? {
        let responder = HTTPInlineResponder(sink: sink, exchange: id)
        let relative: StaticRelativePath
        switch StaticPathDecoder.decode(rest, allowHidden: options.servesHiddenFiles) {
        case .failure(.malformed):
            responder.respond(status: 400, fields: Self.textFields, text: "bad path\n")
            return nil
        case .failure(.hidden):
            responder.respond(status: 403, fields: Self.textFields, text: "forbidden\n")
            return nil
        case .success(let path):
            relative = path
        }
        var path = root
        for segment in relative.segments { path += (path.hasSuffix("/") ? "" : "/") + segment }
        let file: StaticOpenFile
        switch resolveAndOpen(path) {
        case .failure(let status):
            refuse(status, responder)
            return nil
        case .success(let (opened, resolved)):
            if opened.info.isDirectory {
                return directory(resolved, relative: relative, head: head, sink: sink, id: id)
            }
            guard opened.info.isRegular, !relative.endsWithSlash else {
                refuse(404, responder)
                return nil
            }
            file = opened
            path = resolved
        }
        return serve(file, path: path, head: head, sink: sink, id: id)
    }

    /// The real path of `path`, checked against the root, opened; or the status to answer.
    private func resolveAndOpen(_ path: String) -> Result<(StaticOpenFile, String), StaticRefusalStatus> {
        if let opened = openWithoutSymlinks(path) { return .success((opened, path)) }
        let resolved: String
        switch StaticFileSystem.realPath(path) {
        case .failure(let error): return .failure(StaticRefusalStatus(error.code == EACCES ? 403 : 404))
        case .success(let value): resolved = value
        }
        if !options.followsSymlinksOutsideRoot && !isInsideRoot(resolved) { return .failure(403) }
        switch StaticFileSystem.open(resolved) {
        case .failure(let error): return .failure(StaticRefusalStatus(error.code == EACCES ? 403 : 404))
        case .success(let file): return .success((file, resolved))
        }
    }

    /// The fast path: `path` below the (already real) root with no symlink on the way is its
    /// own real path, so it is opened as is — an `lstat` per directory below the root and an
    /// `O_NOFOLLOW` open, instead of `realpath`'s `readlink` of every component from `/`. Nil
    /// sends the caller to the full resolution (a symlink on the way, or any error, answered
    /// there as before). The decoder has already refused `.`, `..` and empty segments.
    private func openWithoutSymlinks(_ path: String) -> StaticOpenFile? {
        let below: Substring
        if root == "/" {
            below = path.dropFirst()
        } else {
            guard path.hasPrefix(root) else { return nil }
            let rest = path.dropFirst(root.count)
            guard rest.isEmpty || rest.first == "/" else { return nil }
            below = rest.dropFirst()
        }
        var directory = root
        for component in below.split(separator: "/").dropLast() {
            directory += (directory.hasSuffix("/") ? "" : "/") + component
            guard let info = StaticFileSystem.linkInfo(directory), info.isDirectory else { return nil }
        }
        guard case .success(let file) = StaticFileSystem.open(path) else { return nil }
        return file
    }

    private func isInsideRoot(_ resolved: String) -> Bool {
        if resolved == root || root == "/" { return true }
        return resolved.hasPrefix(root) && resolved.utf8.dropFirst(root.utf8.count).first == UInt8(ascii: "/")
    }

    private func refuse(_ status: StaticRefusalStatus, _ responder: HTTPInlineResponder) {
        switch status.code {
        case 403: responder.respond(status: 403, fields: Self.textFields, text: "forbidden\n")
        default: responder.respond(status: 404, fields: Self.textFields, text: "not found\n")
        }
    }

    private static let textFields: [(name: String, value: String)] = [("Content-Type", "text/plain; charset=utf-8")]

    /// A directory: redirect to the slash form, its index file, its listing, or 404.
    private func directory(_ resolved: String, relative: StaticRelativePath, head: HTTPRequestHeadView,
                           sink: any HTTPResponseSink, id: HTTPExchangeID) -> (any HTTPServerExchange)? {
        let responder = HTTPInlineResponder(sink: sink, exchange: id)
        guard relative.endsWithSlash else {
            var location = head.string(head.path) + "/"
            if let query = head.query { location += "?" + head.string(query) }
            responder.respond(status: 301, fields: [("Location", location)] + Self.textFields, text: "moved\n")
            return nil
        }
        let index = resolved + (resolved.hasSuffix("/") ? "" : "/") + options.indexFile
        if case .success(let (file, indexPath)) = resolveAndOpen(index), file.info.isRegular {
            return serve(file, path: indexPath, head: head, sink: sink, id: id)
        }
        guard options.listsDirectories,
              let listing = StaticFileSystem.entries(of: resolved, limit: options.maxListingEntries) else {
            refuse(404, responder)
            return nil
        }
        let shown = options.servesHiddenFiles ? listing.entries : listing.entries.filter { !$0.name.hasPrefix(".") }
        let title = "/" + relative.segments.map { $0 + "/" }.joined()
        let page = StaticDirectoryListing.page(title: title, entries: shown, truncated: listing.truncated)
        var fields: [(name: String, value: String)] = [("Content-Type", "text/html; charset=utf-8")]
        if let cacheControl = options.cacheControl { fields.append(("Cache-Control", cacheControl)) }
        responder.respond(status: 200, fields: fields, text: page)
        return nil
    }

    // MARK: A file

    private func serve(_ original: StaticOpenFile, path: String, head: HTTPRequestHeadView,
                       sink: any HTTPResponseSink, id: HTTPExchangeID) -> (any HTTPServerExchange)? {
        let responder = HTTPInlineResponder(sink: sink, exchange: id)
        var fields: [(name: String, value: String)] = [("Content-Type", options.contentTypes.contentType(forPath: path))]
        var file = original
        var etagSuffix = ""
        if options.servesPrecompressed {
            fields.append(("Vary", "Accept-Encoding"))
            if let accept = head.firstValue(of: "accept-encoding") {
                for coding in StaticAcceptEncoding.preferred(Array(accept))
                where StaticFileSystem.linkInfo(path + coding.suffix)?.isRegular == true {
                    if case .success(let sibling) = StaticFileSystem.open(path + coding.suffix), sibling.info.isRegular {
                        original.close()
                        file = sibling
                        etagSuffix = coding.etagSuffix
                        fields.append(("Content-Encoding", coding.rawValue))
                        break
                    }
                }
            }
        }
        let info = file.info
        let validators = StaticValidators(etag: info.etag(suffix: etagSuffix), lastModified: info.modifiedSeconds)
        let lastModified = HTTPDate.format(secondsSince1970: info.modifiedSeconds)
        fields.append(("ETag", validators.etag))
        fields.append(("Last-Modified", lastModified))
        if let cacheControl = options.cacheControl { fields.append(("Cache-Control", cacheControl)) }

        let isGet = head.isMethod("GET")
        let conditions = StaticConditionalFields(
            ifMatch: head.firstValue(of: "if-match").map(Array.init),
            ifNoneMatch: head.firstValue(of: "if-none-match").map(Array.init),
            ifModifiedSince: head.firstValue(of: "if-modified-since").map(Array.init),
            ifUnmodifiedSince: head.firstValue(of: "if-unmodified-since").map(Array.init),
            ifRange: head.firstValue(of: "if-range").map(Array.init))
        let parseDate: ([UInt8]) -> Int64? = { bytes in bytes.withUnsafeBytes { HTTPDate.parse($0) } }
        switch StaticPreconditions.evaluate(conditions, validators: validators, isGetOrHead: isGet || head.isMethod("HEAD"),
                                            now: Int64(time(nil)), parseDate: parseDate) {
        case .notModified:
            file.close()
            // RFC 9110 §15.4.5: the validators and caching fields a 200 would carry, no content.
            responder.writeHead(status: 304, fields: fields.filter { $0.name != "Content-Type" && $0.name != "Content-Encoding" }, bodyLength: 0)
            responder.writeEnd()
            return nil
        case .preconditionFailed:
            file.close()
            responder.respond(status: 412, fields: Self.textFields, text: "precondition failed\n")
            return nil
        case .proceed:
            break
        }
        fields.append(("Accept-Ranges", "bytes"))

        var range: ClosedRange<UInt64>?
        if isGet, let value = head.firstValue(of: "range") {
            let applies = conditions.ifRange.map { StaticPreconditions.ifRangeHolds($0, validators: validators, parseDate: parseDate) } ?? true
            if applies {
                switch StaticByteRange.evaluate(value, length: info.size) {
                case .whole: break
                case .partial(let bytes): range = bytes
                case .unsatisfiable:
                    file.close()
                    responder.respond(status: 416, fields: [("Content-Range", "bytes */\(info.size)")] + Self.textFields,
                                      text: "range not satisfiable\n")
                    return nil
                }
            }
        }
        let length: UInt64
        if let range {
            length = range.upperBound - range.lowerBound + 1
            fields.append(("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound)/\(info.size)"))
        } else {
            length = info.size
        }
        responder.writeHead(status: range == nil ? 200 : 206, fields: fields, bodyLength: length)
        guard isGet, length > 0 else {
            file.close()
            responder.writeEnd()
            return nil
        }
        let transfer = StaticFileTransfer(file: file, range: range, sink: sink, id: id, chunkSize: options.chunkSize)
        return transfer.pump(chunks: 1) ? nil : transfer
    }
}

/// A refusal's status (403 or 404).
struct StaticRefusalStatus: Error, ExpressibleByIntegerLiteral {
    var code: Int
    init(_ code: Int) { self.code = code }
    init(integerLiteral value: Int) { code = value }
}
