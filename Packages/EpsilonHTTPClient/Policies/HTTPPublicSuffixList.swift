// The public-suffix list (publicsuffix.org): which domains are registries, so the cookie jar can
// refuse `Domain=co.uk`. Debian's `publicsuffix` package installs it at `defaultPath`.

import Foundation

/// The rules of a public-suffix list: plain rules, wildcards (`*.ck`) and exceptions (`!www.ck`),
/// matched as publicsuffix.org's algorithm says, including the implicit `*` rule.
///
/// ```swift
/// let suffixes = try HTTPPublicSuffixList()          // Debian's list
/// suffixes.isPublicSuffix("co.uk")                    // true
/// suffixes.isPublicSuffix("example.co.uk")            // false
/// ```
///
/// Internationalized rules are stored in their ASCII (`xn--`) form, so hosts match in either form.
public struct HTTPPublicSuffixList: Sendable {
    /// Where Debian's `publicsuffix` package installs the list.
    public static let defaultPath = "/usr/share/publicsuffix/public_suffix_list.dat"
    /// The largest file ``init(contentsOf:)`` reads (the real list is about 250 KB).
    public static let maxFileBytes = 16 << 20

    private var rules: Set<String> = []
    /// Wildcard rules without their leading `*.`.
    private var wildcards: Set<String> = []
    /// Exception rules without their leading `!`.
    private var exceptions: Set<String> = []

    /// Loads the list at `path`.
    ///
    /// - Throws: ``HTTPPublicSuffixListError`` when the file is unreadable, too large or has no rule.
    public init(contentsOf path: String = defaultPath) throws(HTTPPublicSuffixListError) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int
        else { throw .unreadable(path: path) }
        guard size <= Self.maxFileBytes else { throw .tooLarge(path: path, bytes: size) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
        guard data.count <= Self.maxFileBytes else { throw .tooLarge(path: path, bytes: data.count) }
        self.init(rules: String(decoding: data, as: UTF8.self))
        guard ruleCount > 0 else { throw .noRules(path: path) }
    }

    /// A list from its text, in the format of `public_suffix_list.dat` (one rule a line, `//`
    /// comments, the rule ends at the first whitespace). Lines that are no valid rule are skipped.
    public init(rules text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let rule = line.split(whereSeparator: \.isWhitespace).first, !rule.hasPrefix("//") else { continue }
            if rule.hasPrefix("!") {
                if let domain = Self.canonical(rule.dropFirst()) { exceptions.insert(domain) }
            } else if rule.hasPrefix("*.") {
                if let domain = Self.canonical(rule.dropFirst(2)) { wildcards.insert(domain) }
            } else if let domain = Self.canonical(rule) {
                rules.insert(domain)
            }
        }
    }

    /// The number of rules loaded.
    public var ruleCount: Int { rules.count + wildcards.count + exceptions.count }

    /// Whether `domain` is itself a public suffix (`com`, `co.uk`, `anything.ck` but not
    /// `www.ck`). A single label no rule names is one too (the implicit `*` rule). Case and one
    /// trailing dot are ignored; an empty or malformed domain is not a public suffix.
    public func isPublicSuffix(_ domain: String) -> Bool {
        var name = Substring(domain)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard let canonical = Self.canonical(name) else { return false }
        let labels = canonical.split(separator: ".", omittingEmptySubsequences: false)
        // An exception rule matching any tail makes the suffix shorter than the domain.
        for start in labels.indices where exceptions.contains(labels[start...].joined(separator: ".")) {
            return false
        }
        if rules.contains(canonical) { return true }
        if labels.count >= 2, wildcards.contains(labels.dropFirst().joined(separator: ".")) { return true }
        return labels.count == 1
    }

    /// `name` in lower case with non-ASCII labels as A-labels; nil when a label is empty or too long.
    private static func canonical(_ name: Substring) -> String? {
        var labels: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, let ascii = Punycode.asciiLabel(Substring(label.lowercased())) else { return nil }
            labels.append(ascii)
        }
        return labels.isEmpty ? nil : labels.joined(separator: ".")
    }
}
