// The lenient cookie-date of RFC 6265 §5.1.1: what the Expires attribute holds in practice.

@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTPTypes

/// RFC 6265 §5.1.1 cookie-date parsing: tokens split on delimiters, the first time, day, month
/// and year found in any order. Accepts every HTTP-date form and the variants servers send
/// (`Wed, 09-Jun-2021 10:18:14 GMT`, `Thu Jan 01 1970 00:00:01 GMT+0000`).
enum CookieDate {
    /// Seconds since 1970 of `text`, or nil when §5.1.1 says to fail.
    static func parse(_ text: Substring) -> Int64? {
        var time: (hour: Int, minute: Int, second: Int)?
        var dayOfMonth: Int?
        var month: Int?
        var year: Int?
        for token in text.utf8.split(whereSeparator: isDelimiter) {
            if time == nil, let found = parseTime(token) {
                time = found
            } else if dayOfMonth == nil, let found = leadingDigits(token, allowed: 1...2) {
                dayOfMonth = found
            } else if month == nil, let found = parseMonth(token) {
                month = found
            } else if year == nil, let found = leadingDigits(token, allowed: 2...4) {
                year = found
            }
        }
        guard let time, let dayOfMonth, let month, var year else { return nil }
        if (70...99).contains(year) { year += 1900 } else if (0...69).contains(year) { year += 2000 }
        guard (1...31).contains(dayOfMonth), year >= 1601, time.hour <= 23, time.minute <= 59, time.second <= 59
        else { return nil }
        return HTTPDate.secondsSince1970(
            year: year, month: month, day: dayOfMonth, hour: time.hour, minute: time.minute, second: time.second)
    }

    private static let monthNames: [[UInt8]] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map { Array($0.utf8) }

    /// delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
    private static func isDelimiter(_ byte: UInt8) -> Bool {
        byte == 0x09 || (0x20...0x2F).contains(byte) || (0x3B...0x40).contains(byte)
            || (0x5B...0x60).contains(byte) || (0x7B...0x7E).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// `count` leading digits (count within `allowed`) followed by the end or a non-digit.
    private static func leadingDigits(_ token: Substring.UTF8View.SubSequence, allowed: ClosedRange<Int>) -> Int? {
        let digits = token.prefix(while: isDigit)
        guard allowed.contains(digits.count) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// hms-time ( non-digit *OCTET ), each field one or two digits.
    private static func parseTime(_ token: Substring.UTF8View.SubSequence) -> (hour: Int, minute: Int, second: Int)? {
        var fields: [Int] = []
        var rest = token[...]
        for index in 0..<3 {
            let digits = rest.prefix(while: isDigit)
            guard (1...2).contains(digits.count) else { return nil }
            fields.append(digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
            rest = rest.dropFirst(digits.count)
            if index < 2 {
                guard rest.first == UInt8(ascii: ":") else { return nil }
                rest = rest.dropFirst()
            } else if let next = rest.first, isDigit(next) {
                return nil
            }
        }
        return (fields[0], fields[1], fields[2])
    }

    /// month = ( "jan" / … / "dec" ) *OCTET, case-insensitive; 1–12.
    private static func parseMonth(_ token: Substring.UTF8View.SubSequence) -> Int? {
        guard token.count >= 3 else { return nil }
        let lowered = token.prefix(3).map(ASCII.lowercased)
        guard let index = monthNames.firstIndex(of: lowered) else { return nil }
        return index + 1
    }
}
