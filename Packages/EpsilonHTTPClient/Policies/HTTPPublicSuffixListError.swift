// Why a public-suffix list could not be loaded.

/// Why ``HTTPPublicSuffixList/init(contentsOf:)`` failed.
public enum HTTPPublicSuffixListError: Error, Sendable, Equatable {
    /// The file could not be read (missing, not a file, no permission).
    case unreadable(path: String)
    /// The file is larger than ``HTTPPublicSuffixList/maxFileBytes``.
    case tooLarge(path: String, bytes: Int)
    /// The file holds no rule (not a public-suffix list).
    case noRules(path: String)
}
