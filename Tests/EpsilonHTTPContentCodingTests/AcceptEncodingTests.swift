import EpsilonHTTPContentCoding
import Testing

func negotiate(_ value: String, supported: [HTTPContentCoding] = [.gzip, .deflate]) -> HTTPContentCoding? {
    Array(value.utf8).withUnsafeBytes { HTTPAcceptEncoding.negotiate($0, supported: supported) }
}

/// RFC 9110 §12.5.3 Accept-Encoding negotiation.
@Suite struct RFC9110_12_5_3_AcceptEncoding {
    static let cases: [(String, HTTPContentCoding?)] = [
        ("gzip", .gzip),
        ("deflate", .deflate),
        ("gzip, deflate", .gzip),
        ("deflate, gzip", .gzip),                       // ties go to the server's order
        ("gzip;q=0.5, deflate", .deflate),
        ("gzip;q=0.5,deflate;q=0.6", .deflate),
        ("GZIP", .gzip),
        ("x-gzip", .gzip),
        ("Deflate;Q=1", .deflate),
        ("  gzip ; q=0.9 ,\tdeflate;q=0.1  ", .gzip),
        ("br", .identity),                               // nothing we have: identity
        ("br, zstd;q=1", .identity),
        ("", .identity),                                 // empty value: identity only
        (" , ,", .identity),
        ("*", .gzip),
        ("*;q=0.3, gzip;q=0.2", .deflate),
        ("gzip;q=0", .identity),
        ("gzip;q=0, deflate;q=0", .identity),
        ("identity;q=0", nil),                            // nothing listed and identity refused
        ("*;q=0", nil),
        ("*;q=0, identity", .identity),
        ("*;q=0, identity;q=0.5", .identity),
        ("identity;q=0, gzip;q=0.001", .gzip),
        ("gzip;q=0.5, identity", .identity),              // identity named with a higher weight
        ("gzip;q=0.5, identity;q=0.5", .gzip),            // a tie: compress
        ("gzip, identity;q=0.9", .gzip),
        ("gzip;q=1.000", .gzip),
        ("gzip;q=0.", .identity),
        // Bad syntax is ignored per element.
        ("gzip;q=2, deflate", .deflate),
        ("gzip;q=1.5, deflate;q=0.1", .deflate),
        ("gzip;q=0.0001, deflate;q=0.1", .deflate),
        ("gzip;q=abc", .identity),
        ("gzip;q=", .identity),
        ("gzip;level=9, deflate;q=0.2", .deflate),
        ("gzip;q=0.5;q=0.4, deflate;q=0.1", .deflate),
        ("gz ip, deflate", .deflate),
        ("gzip q=0.5, deflate", .deflate),
        ("gz\"ip\", deflate;q=0.4", .deflate),
        (";q=1, deflate", .deflate),
        ("identity;q=x, *;q=0", nil),
        // The first element naming a coding wins.
        ("gzip;q=0, gzip;q=1", .identity),
        ("gzip;q=0.1, deflate;q=0.2, gzip", .deflate),
    ]

    @Test(arguments: cases)
    func negotiates(value: String, expected: HTTPContentCoding?) {
        #expect(negotiate(value) == expected, "\(value)")
    }

    @Test func supportedListDecidesAndOrdersTies() {
        #expect(negotiate("gzip, deflate", supported: [.deflate, .gzip]) == .deflate)
        #expect(negotiate("gzip", supported: [.deflate]) == .identity)
        #expect(negotiate("gzip, identity;q=0", supported: [.deflate]) == nil)
        #expect(negotiate("gzip", supported: []) == .identity)
        #expect(negotiate("*", supported: []) == .identity)
    }
}

/// Coding tokens.
@Suite struct ContentCodingTokens {
    @Test func readsTokensIgnoringCase() {
        #expect(HTTPContentCoding("gzip") == .gzip)
        #expect(HTTPContentCoding("X-GZIP") == .gzip)
        #expect(HTTPContentCoding("Deflate") == .deflate)
        #expect(HTTPContentCoding("IDENTITY") == .identity)
        #expect(HTTPContentCoding("br") == nil)
        #expect(HTTPContentCoding(" gzip") == nil)
        #expect(HTTPContentCoding("") == nil)
        #expect(Array("deflate".utf8).withUnsafeBytes { HTTPContentCoding(token: $0) } == .deflate)
    }

    @Test func tokensAreLowerCase() {
        #expect([HTTPContentCoding.identity, .gzip, .deflate].map(\.token) == ["identity", "gzip", "deflate"])
    }
}
