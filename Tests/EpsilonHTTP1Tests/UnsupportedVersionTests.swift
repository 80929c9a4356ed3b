import EpsilonHTTP1
import Testing

/// A well-formed version other than 1.0/1.1 is `unsupportedVersion` (a server answers `505`,
/// RFC 9110 §15.6.6); a malformed one stays `invalidVersion` (`400`).
@Suite struct UnsupportedVersionTests {
    @Test(arguments: ["HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9"])
    func wellFormedOtherVersionIsUnsupported(_ version: String) {
        let error = parseError("GET / \(version)\r\nHost: x\r\n\r\n")
        #expect(error?.rule == .unsupportedVersion)
        #expect(error?.offset == 11)
    }

    @Test(arguments: ["HTTP/1.1x", "http/1.1", "HTTP/1", "HTTP/a.1"])
    func malformedVersionIsInvalid(_ version: String) {
        #expect(parseError("GET / \(version)\r\nHost: x\r\n\r\n")?.rule == .invalidVersion)
    }

    @Test func serverConnectionAnswers505AndCloses() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = Ignore()
        let bytes = Array("GET / HTTP/2.0\r\nHost: x\r\n\r\n".utf8)
        #expect(throws: HTTP1ParseError.self) {
            _ = try bytes.withUnsafeBytes { try connection.receive($0, handler: &handler) }
        }
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self).hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"))
        #expect(connection.isClosed)
    }

    private struct Ignore: HTTP1ConnectionHandler {
        mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {}
    }

    private func parseError(_ text: String) -> HTTP1ParseError? {
        var parser = HTTP1Parser(role: .request)
        let bytes = Array(text.utf8)
        do {
            _ = try bytes.withUnsafeBytes { try parser.parse($0) }
            return nil
        } catch let error as HTTP1ParseError {
            return error
        } catch {
            return nil
        }
    }
}
