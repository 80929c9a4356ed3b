#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a static route needs of a file's `stat`.
struct StaticFileInfo: Sendable, Equatable {
    var inode: UInt64
    var size: UInt64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64
    var isDirectory: Bool
    var isRegular: Bool

    init(_ info: stat) {
        inode = UInt64(info.st_ino)
        size = UInt64(max(info.st_size, 0))
        #if canImport(Darwin)
        modifiedSeconds = Int64(info.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtimespec.tv_nsec)
        #else
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
        #endif
        let kind = info.st_mode & S_IFMT
        isDirectory = kind == S_IFDIR
        isRegular = kind == S_IFREG
    }

    /// The strong ETag: `"INODE-SIZE-MTIME"` in lowercase hex, MTIME in nanoseconds since 1970
    /// (so a rewrite of the same size within the same second still changes it), plus the
    /// variant's suffix (`-br`, `-gz`) for a precompressed sibling.
    func etag(suffix: String = "") -> String {
        let nanoseconds = UInt64(bitPattern: modifiedSeconds &* 1_000_000_000 &+ modifiedNanoseconds)
        return "\"" + String(inode, radix: 16) + "-" + String(size, radix: 16) + "-" + String(nanoseconds, radix: 16) + suffix + "\""
    }
}

/// An open file descriptor, closed exactly once.
final class StaticOpenFile {
    private(set) var descriptor: Int32
    let info: StaticFileInfo

    init(descriptor: Int32, info: StaticFileInfo) {
        self.descriptor = descriptor
        self.info = info
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; the count read, 0 at the end, -1 on error.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: UInt64) -> Int {
        guard descriptor >= 0 else { return -1 }
        while true {
            let got = pread(descriptor, buffer, count, off_t(offset))
            if got < 0 && errno == EINTR { continue }
            return got
        }
    }

    /// Gives the descriptor away (to a connection that sends and closes it).
    func relinquish() { descriptor = -1 }

    func close() {
        guard descriptor >= 0 else { return }
        _ = closeDescriptor(descriptor)
        descriptor = -1
    }

    deinit { close() }
}

private func openDescriptor(_ path: String, _ flags: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.open(path, flags)
    #elseif canImport(Musl)
    Musl.open(path, flags)
    #else
    Darwin.open(path, flags)
    #endif
}

private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(descriptor)
    #elseif canImport(Musl)
    Musl.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}

/// An `errno` from a file-system call.
struct StaticErrno: Error, Equatable {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}

enum StaticFileSystem {
    /// The canonical path (every symlink resolved), or the errno.
    static func realPath(_ path: String) -> Result<String, StaticErrno> {
        guard let resolved = realpath(path, nil) else { return .failure(StaticErrno(errno)) }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }

    /// Opens `path` read-only without following a final symlink and without blocking (a FIFO
    /// must not hang the loop), then `fstat`s it.
    static func open(_ path: String) -> Result<StaticOpenFile, StaticErrno> {
        let descriptor = openDescriptor(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(StaticErrno(errno)) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            _ = closeDescriptor(descriptor)
            return .failure(StaticErrno(code))
        }
        return .success(StaticOpenFile(descriptor: descriptor, info: StaticFileInfo(info)))
    }

    /// `lstat` of `path`: nil when absent (a symlink reports itself, not its target).
    static func linkInfo(_ path: String) -> StaticFileInfo? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return StaticFileInfo(info)
    }

    /// The names in directory `path` (without `.` and `..`), at most `limit`, and whether
    /// more were left out; nil when it cannot be read. Each name's flag says it is a directory.
    static func entries(of path: String, limit: Int) -> (entries: [(name: String, isDirectory: Bool)], truncated: Bool)? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var entries: [(name: String, isDirectory: Bool)] = []
        var truncated = false
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            guard entries.count < limit else {
                truncated = true
                break
            }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) || entry.pointee.d_type == UInt8(DT_LNK) {
                var info = stat()
                isDirectory = stat(path + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            }
            entries.append((name, isDirectory))
        }
        return (entries, truncated)
    }
}
