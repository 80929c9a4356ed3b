/// How a static-file route serves its folder (see ``HTTPStaticFiles``).
public struct HTTPStaticFileOptions: Sendable {
    /// Answer a directory without an index file with an HTML listing (off: 404).
    public var listsDirectories = false
    /// Serve symbolic links whose target lies outside the root (off: 403).
    public var followsSymlinksOutsideRoot = false
    /// Serve dot-files and dot-directories (off: 403).
    public var servesHiddenFiles = false
    /// The file served for a directory path ending in `/`.
    public var indexFile = "index.html"
    /// The `Cache-Control` value of every file response (and its 304s); nil sends none.
    public var cacheControl: String?
    /// Serve `NAME.br` / `NAME.gz` siblings when the client accepts them.
    public var servesPrecompressed = true
    /// Extension → `Content-Type`.
    public var contentTypes = HTTPStaticContentTypes()
    /// The most entries a listing shows (the rest is left out and says so).
    public var maxListingEntries = 10_000
    /// The largest piece of a file read and queued at once (bounded reads on the loop thread).
    public var chunkSize = 64 * 1024

    /// The defaults: no listing, no symlinks out of the root, no dot-files, `index.html`,
    /// no `Cache-Control`, precompressed siblings on.
    public init() {}
}
