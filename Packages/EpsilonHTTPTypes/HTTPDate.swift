// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate out, the three historical forms in. Pure arithmetic on
// the proleptic Gregorian calendar in UTC; no Foundation, no clock, no allocation when parsing.

/// Formats and parses HTTP-date values (RFC 9110 §5.6.7) as seconds since 1970-01-01T00:00:00Z.
///
/// Output is always IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`). Input may be IMF-fixdate, the
/// obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) or the asctime form
/// (`Sun Nov  6 08:49:37 1994`). Names are case-sensitive, as the grammar says; the day name must
/// be a valid one but is not checked against the date (recipients take the date as given).
///
/// ```swift
/// var field: [UInt8] = []
/// HTTPDate.format(secondsSince1970: 784111777, into: &field)   // "Sun, 06 Nov 1994 08:49:37 GMT"
/// HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT")              // 784111777
/// ```
public enum HTTPDate {
    /// The earliest instant IMF-fixdate can write: 0000-01-01T00:00:00Z.
    public static let earliestSecondsSince1970: Int64 = -62_167_219_200
    /// The latest instant IMF-fixdate can write: 9999-12-31T23:59:59Z.
    public static let latestSecondsSince1970: Int64 = 253_402_300_799

    /// IMF-fixdate (RFC 9110 §5.6.7) of `secondsSince1970`, 29 ASCII bytes, appended to `output`.
    ///
    /// Instants outside years 0000–9999 (which a four-digit year cannot write) are clamped to
    /// ``earliestSecondsSince1970`` or ``latestSecondsSince1970``.
    public static func format(secondsSince1970: Int64, into output: inout [UInt8]) {
        let seconds = min(max(secondsSince1970, earliestSecondsSince1970), latestSecondsSince1970)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let date = civilDate(daysSince1970: days)
        let weekday = Int(floorModulo(days + 4, 7))  // 1970-01-01 was a Thursday (index 4 from Sunday).
        output.reserveCapacity(output.count + 29)
        appendName(dayNames, index: weekday, into: &output)
        output.append(UInt8(ascii: ","))
        output.append(UInt8(ascii: " "))
        appendDigits(date.day, count: 2, into: &output)
        output.append(UInt8(ascii: " "))
        appendName(monthNames, index: date.month - 1, into: &output)
        output.append(UInt8(ascii: " "))
        appendDigits(date.year, count: 4, into: &output)
        output.append(UInt8(ascii: " "))
        appendDigits(secondOfDay / 3600, count: 2, into: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, into: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, into: &output)
        output.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: "G"), UInt8(ascii: "M"), UInt8(ascii: "T")])
    }

    /// IMF-fixdate (RFC 9110 §5.6.7) of `secondsSince1970` as a string (see ``format(secondsSince1970:into:)``).
    public static func format(secondsSince1970: Int64) -> String {
        var bytes: [UInt8] = []
        format(secondsSince1970: secondsSince1970, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses IMF-fixdate, obsolete RFC 850 and asctime forms (§5.6.7); nil when invalid. No allocation.
    ///
    /// An RFC 850 two-digit year `yy` reads as 19yy when `yy` ≥ 70, else 20yy (the POSIX `%y`
    /// rule). To apply RFC 9110's rule relative to the current time instead, pass `now`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        parse(bytes, twoDigitYear: { $0 >= 70 ? 1900 + $0 : 2000 + $0 })
    }

    /// Parses an HTTP-date like `parse(_:)`, reading an RFC 850
    /// two-digit year as RFC 9110 §5.6.7 asks: a year more than 50 years after `now` (seconds since
    /// 1970) means the most recent past year with the same last two digits.
    public static func parse(_ bytes: UnsafeRawBufferPointer, now: Int64) -> Int64? {
        let currentYear = civilDate(daysSince1970: floorDivide(now, 86_400)).year
        return parse(bytes, twoDigitYear: { twoDigits in
            var year = currentYear - floorModulo(currentYear, 100) + twoDigits
            if year > currentYear + 50 { year -= 100 }
            return year
        })
    }

    /// Parses an HTTP-date held in a string, as the `UnsafeRawBufferPointer` form does.
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses an HTTP-date held in a string relative to `now`, as the `UnsafeRawBufferPointer` form does.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0), now: now) }
    }

    /// Seconds since 1970 of a UTC calendar date and time, or nil when a field is out of range
    /// (month 1–12, day within the month, leap years included, hour 0–23, minute 0–59, second
    /// 0–60 where 60 is a leap second read as the next minute's first).
    public static func secondsSince1970(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (-1_000_000...1_000_000).contains(year)
        else { return nil }
        return daysSince1970(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }
}

// MARK: - Parsing

extension HTTPDate {
    /// The three forms, told apart by length: IMF-fixdate 29 bytes, asctime 24, RFC 850 30–33.
    private static func parse(_ b: UnsafeRawBufferPointer, twoDigitYear: (Int) -> Int) -> Int64? {
        switch b.count {
        case 29: return parseIMFFixdate(b)
        case 24: return parseASCTime(b)
        case 30...33: return parseRFC850(b, twoDigitYear: twoDigitYear)
        default: return nil
        }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    private static func parseIMFFixdate(_ b: UnsafeRawBufferPointer) -> Int64? {
        guard nameIndex(dayNames, in: b, at: 0) != nil,
              b[3] == UInt8(ascii: ","), b[4] == UInt8(ascii: " "), b[7] == UInt8(ascii: " "),
              b[11] == UInt8(ascii: " "), b[16] == UInt8(ascii: " "), isGMT(b, at: 25),
              let day = digits(b, at: 5, count: 2), let month = nameIndex(monthNames, in: b, at: 8),
              let year = digits(b, at: 12, count: 4), let time = timeOfDay(b, at: 17)
        else { return nil }
        return secondsSince1970(year: year, month: month + 1, day: day, hour: time.hour, minute: time.minute, second: time.second)
    }

    /// `Sun Nov  6 08:49:37 1994` (the day is two digits or a space and one digit).
    private static func parseASCTime(_ b: UnsafeRawBufferPointer) -> Int64? {
        guard nameIndex(dayNames, in: b, at: 0) != nil,
              b[3] == UInt8(ascii: " "), b[7] == UInt8(ascii: " "), b[10] == UInt8(ascii: " "),
              b[19] == UInt8(ascii: " "),
              let month = nameIndex(monthNames, in: b, at: 4),
              let day = b[8] == UInt8(ascii: " ") ? digits(b, at: 9, count: 1) : digits(b, at: 8, count: 2),
              let time = timeOfDay(b, at: 11), let year = digits(b, at: 20, count: 4)
        else { return nil }
        return secondsSince1970(year: year, month: month + 1, day: day, hour: time.hour, minute: time.minute, second: time.second)
    }

    /// `Sunday, 06-Nov-94 08:49:37 GMT`
    private static func parseRFC850(_ b: UnsafeRawBufferPointer, twoDigitYear: (Int) -> Int) -> Int64? {
        let nameLength = b.count - 24
        guard longDayNameMatches(b, length: nameLength) else { return nil }
        let s = nameLength  // the comma
        guard b[s] == UInt8(ascii: ","), b[s + 1] == UInt8(ascii: " "), b[s + 4] == UInt8(ascii: "-"),
              b[s + 8] == UInt8(ascii: "-"), b[s + 11] == UInt8(ascii: " "),
              isGMT(b, at: s + 20),
              let day = digits(b, at: s + 2, count: 2), let month = nameIndex(monthNames, in: b, at: s + 5),
              let shortYear = digits(b, at: s + 9, count: 2), let time = timeOfDay(b, at: s + 12)
        else { return nil }
        return secondsSince1970(year: twoDigitYear(shortYear), month: month + 1, day: day,
                                hour: time.hour, minute: time.minute, second: time.second)
    }

    /// `HH:MM:SS` at `offset`, fields not yet range-checked.
    private static func timeOfDay(_ b: UnsafeRawBufferPointer, at offset: Int) -> (hour: Int, minute: Int, second: Int)? {
        guard b[offset + 2] == UInt8(ascii: ":"), b[offset + 5] == UInt8(ascii: ":"),
              let hour = digits(b, at: offset, count: 2), let minute = digits(b, at: offset + 3, count: 2),
              let second = digits(b, at: offset + 6, count: 2)
        else { return nil }
        return (hour, minute, second)
    }

    /// ` GMT` at `offset`.
    private static func isGMT(_ b: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        b[offset] == UInt8(ascii: " ") && b[offset + 1] == UInt8(ascii: "G")
            && b[offset + 2] == UInt8(ascii: "M") && b[offset + 3] == UInt8(ascii: "T")
    }

    /// The value of `count` ASCII digits at `offset`, nil if any byte is not a digit.
    private static func digits(_ b: UnsafeRawBufferPointer, at offset: Int, count: Int) -> Int? {
        var value = 0
        for i in offset..<(offset + count) {
            let digit = b[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// The index of the three-letter name at `offset` in `table` (names packed three bytes each).
    private static func nameIndex(_ table: StaticString, in b: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        let names = UnsafeBufferPointer(start: table.utf8Start, count: table.utf8CodeUnitCount)
        for index in 0..<(names.count / 3)
        where names[index * 3] == b[offset] && names[index * 3 + 1] == b[offset + 1] && names[index * 3 + 2] == b[offset + 2] {
            return index
        }
        return nil
    }

    /// Whether the first `length` bytes are a full day name (`Monday` … `Sunday`, RFC 9110 day-name-l).
    private static func longDayNameMatches(_ b: UnsafeRawBufferPointer, length: Int) -> Bool {
        for name in longDayNames where name.utf8CodeUnitCount == length {
            let expected = UnsafeBufferPointer(start: name.utf8Start, count: length)
            if (0..<length).allSatisfy({ expected[$0] == b[$0] }) { return true }
        }
        return false
    }
}

// MARK: - Calendar arithmetic (proleptic Gregorian, after H. Hinnant's "chrono-Compatible Low-Level Date Algorithms")

extension HTTPDate {
    private static let dayNames: StaticString = "SunMonTueWedThuFriSat"
    private static let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
    private static let longDayNames: [StaticString] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    private static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a valid date.
    private static func daysSince1970(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    private static func civilDate(daysSince1970 days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func floorDivide<T: BinaryInteger>(_ a: T, _ b: T) -> T {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func floorModulo<T: BinaryInteger>(_ a: T, _ b: T) -> T { a - floorDivide(a, b) * b }

    private static func appendName(_ table: StaticString, index: Int, into output: inout [UInt8]) {
        let start = table.utf8Start + index * 3
        output.append(start[0])
        output.append(start[1])
        output.append(start[2])
    }

    private static func appendDigits(_ value: Int, count: Int, into output: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
