import EpsilonHTTP1
import EpsilonTooling
import Testing

@Suite struct HTTP1InspectorTests {
    @Test func describesEveryMessageOfTheSampleCapture() throws {
        let capture = try #require(FileManagerShim.read("Examples/captures/requests.http"))
        let report = HTTP1Inspector.describe(capture, role: .request)
        #expect(report.contains("request 1 at byte 0: GET /index.html HTTP/1.1"))
        #expect(report.contains("body: 16 bytes: \"{\"name\":\"first\"}\""))
        #expect(report.contains("trailer Checksum: 2a"))
        #expect(report.hasSuffix("3 messages, 337 bytes"))
        #expect(!report.contains("error"))
    }

    @Test func reportsTheTypedErrorAndOffset() throws {
        let capture = try #require(FileManagerShim.read("Examples/captures/smuggling.http"))
        #expect(HTTP1Inspector.describe(capture, role: .request) == "error: contentLengthWithTransferEncoding at byte 57")
    }

    @Test func readsCloseDelimitedResponses() {
        let report = HTTP1Inspector.describe(Array("HTTP/1.1 200 OK\r\n\r\nbye".utf8), role: .response)
        #expect(report.contains("framing: until the connection closes"))
        #expect(report.contains("end of body (connection closed)"))
        #expect(report.hasSuffix("1 message, 22 bytes"))
    }

    @Test func reportsATruncatedMessage() {
        let report = HTTP1Inspector.describe(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc".utf8), role: .request)
        #expect(report.contains("incomplete message: unexpectedEndOfStream"))
    }
}

import Foundation
enum FileManagerShim {
    static func read(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }
}
