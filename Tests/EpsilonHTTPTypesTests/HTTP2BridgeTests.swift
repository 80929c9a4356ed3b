import EpsilonHTTP2
import EpsilonHTTPTypes
import HTTPTypes
import Testing

@Suite struct HTTP2HeaderListAndHTTPTypes {
    @Test func requestRoundTripsWithPseudoHeadersFirst() throws {
        var request = HTTPRequest(method: .get, scheme: "https", authority: "h.test", path: "/a?b=c")
        request.headerFields[.accept] = "text/html"
        request.headerFields[.userAgent] = "epsilon"
        let list = HTTP2HeaderList(request)
        #expect(list.fields.map(\.name).prefix(4) == [":method", ":scheme", ":authority", ":path"])
        #expect(list.fields.dropFirst(4).allSatisfy { $0.name == $0.name.lowercased() })
        let back = try HTTPRequest(http2Fields: list)
        #expect(back == request)
    }

    @Test func extendedConnectKeepsProtocol() throws {
        var request = HTTPRequest(method: .connect, scheme: "https", authority: "h.test", path: "/chat")
        request.extendedConnectProtocol = "websocket"
        let back = try HTTPRequest(http2Fields: HTTP2HeaderList(request))
        #expect(back.extendedConnectProtocol == "websocket")
        #expect(back.method == .connect)
    }

    @Test func responseRoundTrips() throws {
        var response = HTTPResponse(status: .notModified)
        response.headerFields[.eTag] = "\"x\""
        let list = HTTP2HeaderList(response)
        #expect(list.first(":status") == "304")
        let back = try HTTPResponse(http2Fields: list)
        #expect(back.status == .notModified)
        #expect(back.headerFields[.eTag] == "\"x\"")
    }

    @Test func connectionSpecificFieldsAreLeftOut() throws {
        var request = HTTPRequest(method: .get, scheme: "https", authority: "h.test", path: "/")
        request.headerFields[.connection] = "keep-alive"
        request.headerFields[HTTPField.Name("keep-alive")!] = "timeout=5"
        request.headerFields[.transferEncoding] = "chunked"
        request.headerFields[.upgrade] = "h2c"
        request.headerFields[.te] = "gzip"
        request.headerFields[.accept] = "*/*"
        let names = HTTP2HeaderList(request).fields.map(\.name)
        #expect(names == [":method", ":scheme", ":authority", ":path", "accept"])
        request.headerFields[.te] = "trailers"
        #expect(HTTP2HeaderList(request).first("te") == "trailers")
    }

    @Test func missingMethodIsATypedError() {
        var list = HTTP2HeaderList()
        list.append(name: ":path", value: "/")
        #expect { try HTTPRequest(http2Fields: list) } throws: { ($0 as? HTTPTypesBridgeError)?.rule == .missingPseudoHeader }
    }

    @Test func unknownPseudoHeaderIsATypedError() {
        var list = HTTP2HeaderList()
        list.append(name: ":method", value: "GET")
        list.append(name: ":bogus", value: "1")
        #expect { try HTTPRequest(http2Fields: list) } throws: { ($0 as? HTTPTypesBridgeError)?.rule == .unexpectedPseudoHeader }
    }

    @Test func responseWithoutStatusIsATypedError() {
        var list = HTTP2HeaderList()
        list.append(name: "server", value: "x")
        #expect { try HTTPResponse(http2Fields: list) } throws: { ($0 as? HTTPTypesBridgeError)?.rule == .missingPseudoHeader }
    }
}
