/// Why a static-file route could not be set up.
public enum HTTPStaticFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The root folder does not exist or cannot be resolved (`errno` given).
    case rootUnavailable(path: String, errno: Int32)
    /// The root is not a directory.
    case rootNotADirectory(path: String)

    /// A sentence naming the folder.
    public var description: String {
        switch self {
        case .rootUnavailable(let path, let code): "static root \"\(path)\" cannot be resolved (errno \(code))"
        case .rootNotADirectory(let path): "static root \"\(path)\" is not a directory"
        }
    }
}
