import EpsilonHTTP1

extension HTTP1ServerSession: HTTPWebSocketUpgrading {
    func switchToWebSocket(_ id: HTTPExchangeID, fields: [(name: String, value: String)],
                           session makeSession: @escaping (any HTTPServerIO) -> any HTTPServerSession) -> Bool {
        // Only while the request's head is being dispatched: `process` switches right after.
        guard inReceive, !closing, let current, current.id == id, !current.headSent else { return false }
        headFields.removeAll(keepingCapacity: true)
        headFields.append((name: "Date", value: context.date))
        if let server = context.configuration.serverName { headFields.append((name: "Server", value: server)) }
        headFields.append(contentsOf: fields)
        let switched = withMachine { machine -> Bool in
            do throws(HTTP1UsageError) {
                try machine.sendResponseHead(status: 101, reason: "Switching Protocols", fields: headFields, body: .empty)
            } catch {
                return false
            }
            return machine.isUpgraded
        }
        guard switched else { return false }
        self.current?.headSent = true
        self.current?.responseEnded = true
        webSocketSession = makeSession
        return true
    }
}
