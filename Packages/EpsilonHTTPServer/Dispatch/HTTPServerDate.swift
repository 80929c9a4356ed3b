#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date` field value: IMF-fixdate (RFC 9110 §5.6.7), `Sun, 06 Nov 1994 08:49:37 GMT`.
enum HTTPServerDate {
    /// The wall clock's current second since 1970 (coarse and cheap: the vDSO).
    static func currentSecond() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &spec)
        return Int(spec.tv_sec)
    }

    private static let days: [StaticString] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats a second since 1970 (proleptic Gregorian, UTC) as 29 bytes of IMF-fixdate.
    static func format(secondsSince1970 seconds: Int) -> String {
        let dayNumber = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - dayNumber * 86_400
        // Civil date from days (Howard Hinnant's algorithm).
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((dayNumber % 7) + 7) % 7

        var out: [UInt8] = []
        out.reserveCapacity(29)
        func append(_ text: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func append(_ number: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var value = number
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                value %= divisor
                divisor /= 10
            }
        }
        append(days[weekday])
        append(", ")
        append(day, digits: 2)
        out.append(UInt8(ascii: " "))
        append(months[month - 1])
        out.append(UInt8(ascii: " "))
        append(year, digits: 4)
        out.append(UInt8(ascii: " "))
        append(secondOfDay / 3600, digits: 2)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, digits: 2)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, digits: 2)
        append(" GMT")
        return String(decoding: out, as: UTF8.self)
    }
}
