import EpsilonHTTPTypes
import Testing

/// RFC 9110 §5.6.7: IMF-fixdate written, the three forms read, invalid dates refused.
@Suite struct RFC9110_5_6_7_HTTPDate {
    /// Instants with their IMF-fixdate, checked against Python's `email.utils.formatdate`.
    static let known: [(Int64, String)] = [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ]

    @Test(arguments: known)
    func formatsIMFFixdate(seconds: Int64, text: String) {
        #expect(HTTPDate.format(secondsSince1970: seconds) == text)
        var bytes: [UInt8] = Array("Date: ".utf8)
        HTTPDate.format(secondsSince1970: seconds, into: &bytes)
        #expect(bytes.count == 6 + 29)
        #expect(String(decoding: bytes, as: UTF8.self) == "Date: " + text)
    }

    @Test(arguments: known)
    func parsesIMFFixdate(seconds: Int64, text: String) {
        #expect(HTTPDate.parse(text) == seconds)
    }

    @Test func parsesTheThreeFormsOfTheSameInstant() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov 06 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("Wednesday, 09-Nov-94 08:49:37 GMT") == 784_370_977)  // three days later
    }

    @Test func parsesFromARawBuffer() {
        let bytes = Array("Sun, 06 Nov 1994 08:49:37 GMT".utf8)
        #expect(bytes.withUnsafeBytes { HTTPDate.parse($0) } == 784_111_777)
    }

    @Test func roundTripsEveryDayOverFourHundredYears() {
        // One instant per day from 1900 to 2300 at a varying time of day: format, then parse back.
        var seconds: Int64 = -2_208_988_800 + 3_723
        var checked = 0
        while seconds < 10_413_792_000 {
            let text = HTTPDate.format(secondsSince1970: seconds)
            guard HTTPDate.parse(text) == seconds else {
                Issue.record("\(seconds) formatted as \(text) did not parse back")
                return
            }
            seconds += 86_400 + 7
            checked += 1
        }
        #expect(checked > 146_000)
    }

    @Test func clampsInstantsAFourDigitYearCannotWrite() {
        #expect(HTTPDate.format(secondsSince1970: .max) == "Fri, 31 Dec 9999 23:59:59 GMT")
        #expect(HTTPDate.format(secondsSince1970: .min) == "Sat, 01 Jan 0000 00:00:00 GMT")
        #expect(HTTPDate.parse("Sat, 01 Jan 0000 00:00:00 GMT") == HTTPDate.earliestSecondsSince1970)
    }

    @Test(arguments: [
        "Tue, 29 Feb 2100 00:00:00 GMT",  // 2100 is not a leap year
        "Sun, 29 Feb 1900 00:00:00 GMT",  // nor 1900
        "Sat, 29 Feb 2023 00:00:00 GMT",
        "Mon, 31 Apr 2024 00:00:00 GMT",
        "Mon, 00 Apr 2024 00:00:00 GMT",
        "Mon, 32 Jan 2024 00:00:00 GMT",
        "Mon, 01 Foo 2024 00:00:00 GMT",  // no such month
        "Mon, 01 jan 2024 00:00:00 GMT",  // names are case-sensitive
        "Fun, 01 Jan 2024 00:00:00 GMT",  // no such day
        "Mon, 01 Jan 2024 24:00:00 GMT",
        "Mon, 01 Jan 2024 23:60:00 GMT",
        "Mon, 01 Jan 2024 23:59:61 GMT",
        "Mon, 01 Jan 2024 23:59:59 UTC",
        "Mon, 01 Jan 2024 23:59:59 gmt",
        "Mon, 01 Jan 2024 23-59-59 GMT",
        "Mon,  1 Jan 2024 23:59:59 GMT",
        "Mon, 01 Jan 2o24 23:59:59 GMT",
        "Mon, 01 Jan 2024 23:59:59 GMT ",
        " Mon, 01 Jan 2024 23:59:59 GMT",
        "Mon, 01 Jan 24 23:59:59 GMT",
        "Monday, 01-Jan-2024 23:59:59 GMT",
        "Mon, 01-Jan-24 23:59:59 GMT",  // RFC 850 needs the long day name
        "Moonday, 01-Jan-24 23:59:59 GMT",
        "Sunday, 29-Feb-23 00:00:00 GMT",
        "Sun Feb 29 08:49:37 2023",
        "Sun Nov 6  08:49:37 1994",
        "Sun Nov  6 08:49:37 94  ",
        "",
        "2024-01-01T00:00:00Z",
    ])
    func rejectsInvalidDates(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func acceptsLeapDaysOfLeapYears() {
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 23:59:59 GMT") == 1_709_251_199)
        #expect(HTTPDate.parse("Tuesday, 29-Feb-00 00:00:00 GMT") == 951_782_400)
        #expect(HTTPDate.parse("Tue Feb 29 00:00:00 2000") == 951_782_400)
    }

    @Test func acceptsALeapSecondAsTheNextMinute() {
        #expect(HTTPDate.parse("Sat, 31 Dec 2016 23:59:60 GMT") == HTTPDate.parse("Sun, 01 Jan 2017 00:00:00 GMT"))
    }

    @Test func readsTwoDigitYearsWithThePOSIXPivotByDefault() {
        #expect(HTTPDate.parse("Thursday, 01-Jan-70 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Saturday, 01-Jan-00 00:00:00 GMT") == 946_684_800)
        #expect(HTTPDate.parse("Saturday, 31-Dec-69 00:00:00 GMT") == HTTPDate.parse("Mon, 31 Dec 2069 00:00:00 GMT"))
    }

    @Test func readsTwoDigitYearsAtMostFiftyYearsAheadOfNow() {
        // RFC 9110 §5.6.7: more than 50 years in the future means the most recent past such year.
        let now: Int64 = 1_733_443_200  // 2024-12-06
        #expect(HTTPDate.parse("Sunday, 01-Jan-74 00:00:00 GMT", now: now) == HTTPDate.parse("Sun, 01 Jan 2074 00:00:00 GMT"))
        #expect(HTTPDate.parse("Monday, 01-Jan-75 00:00:00 GMT", now: now) == HTTPDate.parse("Wed, 01 Jan 1975 00:00:00 GMT"))
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == 784_111_777)
        // The other forms carry four digits and do not depend on `now`.
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: 0) == 784_111_777)
    }

    @Test func buildsInstantsFromCalendarFields() {
        #expect(HTTPDate.secondsSince1970(year: 1994, month: 11, day: 6, hour: 8, minute: 49, second: 37) == 784_111_777)
        #expect(HTTPDate.secondsSince1970(year: 2023, month: 2, day: 29, hour: 0, minute: 0, second: 0) == nil)
        #expect(HTTPDate.secondsSince1970(year: 2024, month: 13, day: 1, hour: 0, minute: 0, second: 0) == nil)
        #expect(HTTPDate.secondsSince1970(year: 2024, month: 1, day: 1, hour: -1, minute: 0, second: 0) == nil)
    }
}

/// Arbitrary bytes of the lengths the parser tells apart: it answers nil or a date that formats
/// and parses back to itself, and never traps.
@Suite struct HTTPDateArbitraryInput {
    @Test func arbitraryBytesNeverTrapAndValidResultsRoundTrip() {
        let alphabet = Array("0123456789 :,-GMTSunMonTueWedThuFriSatJanFebMarAprMayJulAugSepOctNovDecday\u{0}\u{FF}".utf8)
        var state: UInt64 = 0x1234_5678
        var accepted = 0
        for round in 0..<60_000 {
            let length = [24, 29, 30, 31, 32, 33, round % 40][round % 7]
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            // Half the rounds start from a valid date with a few bytes changed.
            if round % 2 == 0 {
                bytes = Array(HTTPDate.format(secondsSince1970: Int64(state >> 34)).utf8)
                bytes[Int(state >> 40) % bytes.count] = alphabet[Int(state >> 50) % alphabet.count]
            }
            if let seconds = bytes.withUnsafeBytes({ HTTPDate.parse($0) }) {
                accepted += 1
                let reparsed = HTTPDate.parse(HTTPDate.format(secondsSince1970: seconds))
                #expect(reparsed == seconds, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 1000)  // the mutated valid dates that stayed valid
    }
}
