@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHPACK

extension HTTP2Connection {
    /// Handles one complete frame. The rules come from RFC 9113; the section is cited where
    /// each applies.
    mutating func process<Handler: HTTP2EventHandler>(
        _ header: HTTP2FrameHeader, _ bytes: UnsafeRawBufferPointer, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        // §6.10: inside a header block only CONTINUATION on the same stream may come.
        if let assembly, header.type != .continuation || header.streamID != assembly.streamID {
            throw HTTP2ConnectionError(.expectedContinuation, code: .protocolError, streamID: header.streamID)
        }
        let payload: HTTP2FramePayload
        do {
            payload = try HTTP2FrameDecoder.decodePayload(header, bytes)
        } catch {
            if error.isStreamError, case .active = state {
                try streamError(header.streamID, error.code, &handler)
                return
            }
            throw HTTP2ConnectionError(.malformedFrame, code: error.code, streamID: header.streamID, frameRule: error.rule)
        }
        // §3.4: the peer's preface ends with a SETTINGS frame.
        if case .awaitingSettings = state {
            guard case .settings = payload, !header.flags.contains(.ack) else {
                throw HTTP2ConnectionError(.firstFrameNotSettings, code: .protocolError, streamID: header.streamID)
            }
        }
        let id = header.streamID
        switch payload {
        case .data(let body, _):
            try receiveData(id, length: header.length, body: body, endStream: header.flags.contains(.endStream), &handler)
        case .headers(let priority, let fragment, _):
            try beginHeaderBlock(
                Assembly(streamID: id, promisedStreamID: 0, endStream: header.flags.contains(.endStream),
                         continuations: 0, dependsOnItself: priority?.dependency == id),
                fragment: fragment, endHeaders: header.flags.contains(.endHeaders), &handler)
        case .priority(let fields):
            try countPriorityFrame(id)
            // §5.3.1: a stream cannot depend on itself.
            if fields.dependency == id {
                try streamError(id, .protocolError, &handler)
                return
            }
            try handler.handle(.priority(streamID: id, fields), connection: &self)
        case .rstStream(let code):
            try receiveReset(id, code, &handler)
        case .settings(let view):
            if header.flags.contains(.ack) {
                try receiveSettingsAck(&handler)
            } else {
                try receiveSettings(view, &handler)
            }
        case .pushPromise(let promised, let fragment, _):
            // §8.4: only servers push, and only when the client allowed it.
            guard role == .client, configuration.enablePush else {
                throw HTTP2ConnectionError(.pushNotAllowed, code: .protocolError, streamID: id)
            }
            try beginHeaderBlock(
                Assembly(streamID: id, promisedStreamID: promised, endStream: false, continuations: 0, dependsOnItself: false),
                fragment: fragment, endHeaders: header.flags.contains(.endHeaders), &handler)
        case .ping(let opaque):
            if header.flags.contains(.ack) {
                if shutdownPingPending && opaque == Self.shutdownPingData {
                    shutdownPingPending = false
                    finishGracefulShutdown()
                }
                try handler.handle(.pingAcknowledged(opaque), connection: &self)
            } else {
                HTTP2FrameEncoder.appendPing(opaque, ack: true, into: &outbound)
                pendingPingAcks &+= 1
                if pendingPingAcks > configuration.maxPendingPingAcks {
                    throw HTTP2ConnectionError(.pingFlood, code: .enhanceYourCalm)
                }
                try handler.handle(.ping(opaque), connection: &self)
            }
        case .goaway(let last, let code, let debug):
            try receiveGoaway(last, code, debug, &handler)
        case .windowUpdate(let increment):
            try receiveWindowUpdate(id, increment, &handler)
        case .continuation(let fragment):
            try continueHeaderBlock(fragment, endHeaders: header.flags.contains(.endHeaders), &handler)
        case .priorityUpdate(let prioritized, let value):
            // RFC 9218 §7.1: sent by clients only, never for stream 0.
            guard role == .server, prioritized != 0 else {
                throw HTTP2ConnectionError(.invalidPriorityUpdate, code: .protocolError, streamID: prioritized)
            }
            try countPriorityFrame(prioritized)
            try handler.handle(.priorityUpdate(streamID: prioritized, HTTP2Priority(fieldValue: value)), connection: &self)
        case .unknown:
            break  // §5.5: unknown frame types are ignored.
        }
    }

    private mutating func countPriorityFrame(_ id: UInt32) throws(HTTP2ConnectionError) {
        if !priorityFrames.record(now: now, window: configuration.floodWindow, limit: configuration.maxPriorityFramesPerWindow) {
            throw HTTP2ConnectionError(.priorityFlood, code: .enhanceYourCalm, streamID: id)
        }
    }

    // MARK: DATA (§6.1)

    private mutating func receiveData<Handler: HTTP2EventHandler>(
        _ id: UInt32, length: Int, body: UnsafeRawBufferPointer, endStream: Bool, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        // §6.9: the whole payload, padding included, counts against the windows.
        guard length <= connectionReceiveWindow else {
            throw HTTP2ConnectionError(.connectionWindowExceeded, code: .flowControlError, streamID: id)
        }
        connectionReceiveWindow &-= length
        if length == 0 && !endStream,
           !emptyFrames.record(now: now, window: configuration.floodWindow, limit: configuration.maxEmptyFramesPerWindow) {
            throw HTTP2ConnectionError(.emptyFrameFlood, code: .enhanceYourCalm, streamID: id)
        }
        guard let index = streams.index(forKey: id) else {
            if isIdle(id) { throw HTTP2ConnectionError(.frameOnIdleStream, code: .protocolError, streamID: id) }
            creditConnection(length)
            if wasRecentlyReset(id) { return }
            throw HTTP2ConnectionError(.frameOnClosedStream, code: .streamClosed, streamID: id)
        }
        var stream = streams.values[index]
        switch stream.phase {
        case .open, .halfClosedLocal:
            break
        case .halfClosedRemote:
            creditConnection(length)
            try streamError(id, .streamClosed, &handler)
            return
        case .reservedLocal, .reservedRemote:
            throw HTTP2ConnectionError(.frameOnReservedStream, code: .protocolError, streamID: id)
        }
        // §8.1: DATA before the final response head is malformed (a server's streams start
        // with the request head, so this only catches clients' peers).
        guard stream.receivedFinalHead else {
            creditConnection(length)
            try streamError(id, .protocolError, &handler)
            return
        }
        guard length <= stream.receiveWindow else {
            creditConnection(length)
            try streamError(id, .flowControlError, &handler)
            return
        }
        stream.receiveWindow &-= length
        stream.receivedLength &+= body.count
        // §8.1.1: content-length must match the DATA received.
        if let expected = stream.expectedLength,
           stream.receivedLength > expected || (endStream && stream.receivedLength != expected) {
            creditConnection(length)
            try streamError(id, .protocolError, &handler)
            return
        }
        let padding = length &- body.count
        if endStream {
            if stream.phase == .open {
                stream.phase = .halfClosedRemote
                streams.values[index] = stream
            } else {
                removeStream(id)
            }
        } else {
            streams.values[index] = stream
        }
        creditConnection(padding)
        if !endStream { creditStream(at: index, padding) }
        if configuration.windowReplenishment == .automatic {
            // Credit is returned as the DATA is handed out, before the handler runs: the
            // WINDOW_UPDATEs this frame causes precede whatever the handler sends.
            creditConnection(body.count)
            // With END_STREAM the peer may send no more: no stream credit is owed (and the
            // stream may be gone). Otherwise `index` still points at it: the credit calls
            // above add or remove no stream.
            if !endStream { creditStream(at: index, body.count) }
        }
        // The handler may add or remove streams: nothing below uses `index`.
        try handler.handle(.data(streamID: id, body, endStream: endStream), connection: &self)
    }

    // MARK: Header blocks (§4.3, §6.2, §6.6, §6.10)

    private mutating func beginHeaderBlock<Handler: HTTP2EventHandler>(
        _ start: Assembly, fragment: UnsafeRawBufferPointer, endHeaders: Bool, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        guard fragment.count <= configuration.maxHeaderBlockSize else {
            throw HTTP2ConnectionError(.headerBlockTooLarge, code: .enhanceYourCalm, streamID: start.streamID)
        }
        if endHeaders {
            try headerBlockComplete(start, fragment, &handler)
        } else {
            headerBlock.removeAll(keepingCapacity: true)
            headerBlock.append(contentsOf: fragment)
            assembly = start
        }
    }

    private mutating func continueHeaderBlock<Handler: HTTP2EventHandler>(
        _ fragment: UnsafeRawBufferPointer, endHeaders: Bool, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        guard var current = assembly else {
            throw HTTP2ConnectionError(.unexpectedContinuation, code: .protocolError)
        }
        current.continuations &+= 1
        // CONTINUATION flood: empty frames never grow the buffer, so count them too.
        guard current.continuations <= configuration.maxContinuationFrames else {
            throw HTTP2ConnectionError(.tooManyContinuations, code: .enhanceYourCalm, streamID: current.streamID)
        }
        guard headerBlock.count &+ fragment.count <= configuration.maxHeaderBlockSize else {
            throw HTTP2ConnectionError(.headerBlockTooLarge, code: .enhanceYourCalm, streamID: current.streamID)
        }
        headerBlock.append(contentsOf: fragment)
        guard endHeaders else {
            assembly = current
            return
        }
        assembly = nil
        var block = headerBlock
        headerBlock = []
        defer {
            block.removeAll(keepingCapacity: true)
            headerBlock = block
        }
        try block.withBytes { bytes throws(HTTP2ConnectionError) in
            try headerBlockComplete(current, bytes, &handler)
        }
    }

    /// What to do with a complete header block once decoded.
    private enum Disposition {
        /// Deliver as `kind`; `opensStream` for a new peer stream.
        case deliver(HeaderBlockKind, opensStream: Bool)
        /// Decode (to keep HPACK in step), then reset the stream with `code`.
        case reset(HTTP2ErrorCode, countsAsReset: Bool)
        /// Decode, then drop (streams we reset, streams above our GOAWAY).
        case ignore
    }

    private mutating func headerBlockComplete<Handler: HTTP2EventHandler>(
        _ block: Assembly, _ bytes: UnsafeRawBufferPointer, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        let id = block.streamID
        let disposition: Disposition
        var resetTarget = id
        if block.promisedStreamID != 0 {
            resetTarget = block.promisedStreamID
            disposition = try pushPromiseDisposition(block)
        } else {
            disposition = try headersDisposition(block)
        }
        // Decode whatever happens next: the HPACK context is shared by all streams (§4.3).
        var list = headerList
        headerList = HTTP2HeaderList()
        list.removeAll()
        let kind: HeaderBlockKind
        if case .deliver(let deliverKind, _) = disposition { kind = deliverKind } else { kind = .trailers }
        var validator = HeaderValidator(
            kind: kind, allowsProtocol: kind == .request && role == .server && configuration.enableConnectProtocol)
        do {
            try decoder.receive(bytes) { field in
                validator.check(field)
                list.append(name: field.name, value: field.value)
            }
        } catch {
            headerList = list
            throw HTTP2ConnectionError(.compression, code: .compressionError, streamID: id)
        }
        defer { headerList = list }
        switch disposition {
        case .ignore:
            return
        case .reset(let code, let counts):
            try streamError(resetTarget, code, &handler, countsAsReset: counts)
            return
        case .deliver(let kind, let opensStream):
            if block.dependsOnItself || !validator.finish() {
                try streamError(resetTarget, .protocolError, &handler)
                return
            }
            if block.promisedStreamID != 0 {
                var promised = StreamState(
                    phase: .reservedRemote, sendWindow: peerSettings.initialWindowSize, receiveWindow: localInitialWindow)
                promised.requestWasHead = validator.isHeadRequest
                insertStream(block.promisedStreamID, promised)
                try handler.handle(.pushPromise(streamID: id, promisedStreamID: block.promisedStreamID, request: list), connection: &self)
                return
            }
            try deliverHeaders(id, kind: kind, opensStream: opensStream, endStream: block.endStream,
                               validator: validator, list: list, &handler)
        }
    }

    private mutating func headersDisposition(_ block: Assembly) throws(HTTP2ConnectionError) -> Disposition {
        let id = block.streamID
        if let stream = streams[id] {
            switch stream.phase {
            case .open, .halfClosedLocal:
                if role == .server || stream.receivedFinalHead { return .deliver(.trailers, opensStream: false) }
                return .deliver(.response, opensStream: false)
            case .reservedRemote:
                return .deliver(.response, opensStream: false)
            case .halfClosedRemote:
                return .reset(.streamClosed, countsAsReset: true)
            case .reservedLocal:
                throw HTTP2ConnectionError(.frameOnReservedStream, code: .protocolError, streamID: id)
            }
        }
        guard isPeerInitiated(id) else {
            // §5.1.1: a client's even stream, or a server opening one of ours.
            if role == .server { throw HTTP2ConnectionError(.invalidStreamID, code: .protocolError, streamID: id) }
            if isIdle(id) { throw HTTP2ConnectionError(.frameOnIdleStream, code: .protocolError, streamID: id) }
            if wasRecentlyReset(id) { return .ignore }
            throw HTTP2ConnectionError(.frameOnClosedStream, code: .streamClosed, streamID: id)
        }
        if role == .client {
            // Servers open streams only by PUSH_PROMISE (§8.4).
            if isIdle(id) { throw HTTP2ConnectionError(.frameOnIdleStream, code: .protocolError, streamID: id) }
            if wasRecentlyReset(id) { return .ignore }
            throw HTTP2ConnectionError(.frameOnClosedStream, code: .streamClosed, streamID: id)
        }
        guard id > highestPeerStreamID else {
            // §5.1: a stream we reset may still see frames in flight; one that closed is
            // STREAM_CLOSED; a lower identifier never used is unexpected (§5.1.1).
            let record = closure(of: id)
            if record.found && record.resetByUs { return .ignore }
            if record.found { throw HTTP2ConnectionError(.frameOnClosedStream, code: .streamClosed, streamID: id) }
            throw HTTP2ConnectionError(.invalidStreamID, code: .protocolError, streamID: id)
        }
        highestPeerStreamID = id
        // §6.8: streams above the GOAWAY we sent are ignored.
        if let last = goawaySentLastStreamID, id > last { return .ignore }
        // §5.1.2: above our SETTINGS_MAX_CONCURRENT_STREAMS, refuse. A peer that knows the
        // limit and keeps opening streams makes us reset them: those count as resets too.
        if peerStreamCount >= configuration.maxConcurrentStreams { return .reset(.refusedStream, countsAsReset: true) }
        if peerStreamsOpened >= configuration.maxStreamsPerConnection {
            if goawaySentLastStreamID == nil {
                let last = id >= 2 ? id - 2 : 0
                HTTP2FrameEncoder.appendGoaway(lastStreamID: last, code: .noError, into: &outbound)
                goawaySentLastStreamID = last
            }
            return .reset(.refusedStream, countsAsReset: false)
        }
        return .deliver(.request, opensStream: true)
    }

    private mutating func pushPromiseDisposition(_ block: Assembly) throws(HTTP2ConnectionError) -> Disposition {
        let promised = block.promisedStreamID
        // §6.6: promised identifiers are new, even (checked by the frame decoder) and rising.
        guard promised > highestPeerStreamID else {
            throw HTTP2ConnectionError(.invalidStreamID, code: .protocolError, streamID: promised)
        }
        highestPeerStreamID = promised
        guard let associated = streams[block.streamID] else {
            if wasRecentlyReset(block.streamID) { return .reset(.cancel, countsAsReset: false) }
            throw HTTP2ConnectionError(.pushNotAllowed, code: .protocolError, streamID: block.streamID)
        }
        guard associated.phase == .open || associated.phase == .halfClosedLocal else {
            throw HTTP2ConnectionError(.pushNotAllowed, code: .protocolError, streamID: block.streamID)
        }
        if peerStreamCount >= configuration.maxConcurrentStreams { return .reset(.refusedStream, countsAsReset: false) }
        return .deliver(.request, opensStream: true)
    }

    private mutating func deliverHeaders<Handler: HTTP2EventHandler>(
        _ id: UInt32, kind: HeaderBlockKind, opensStream: Bool, endStream: Bool,
        validator: HeaderValidator, list: HTTP2HeaderList, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        switch kind {
        case .request:
            // §8.1.1: a request that ends at its head cannot promise a body.
            if endStream, let length = validator.contentLength, length != 0 {
                try streamError(id, .protocolError, &handler)
                return
            }
            var stream = StreamState(
                phase: endStream ? .halfClosedRemote : .open,
                sendWindow: peerSettings.initialWindowSize, receiveWindow: localInitialWindow)
            stream.receivedFinalHead = true
            stream.expectedLength = validator.contentLength
            peerStreamsOpened &+= 1
            insertStream(id, stream)
            try handler.handle(.headers(streamID: id, list, endStream: endStream), connection: &self)
        case .response:
            guard var stream = streams[id] else { return }
            if validator.isInformational {
                // §8.1: a 1xx head never ends the stream.
                if endStream {
                    try streamError(id, .protocolError, &handler)
                    return
                }
                try handler.handle(.headers(streamID: id, list, endStream: false), connection: &self)
                return
            }
            stream.receivedFinalHead = true
            if stream.phase == .reservedRemote { stream.phase = .halfClosedLocal }
            let noBody = stream.requestWasHead || validator.status == 204 || validator.status == 304
            stream.expectedLength = noBody ? 0 : validator.contentLength
            if endStream, let length = stream.expectedLength, length != 0 {
                try streamError(id, .protocolError, &handler)
                return
            }
            streams[id] = stream
            if endStream { endRemote(id) }
            try handler.handle(.headers(streamID: id, list, endStream: endStream), connection: &self)
        case .trailers:
            guard let stream = streams[id] else { return }
            // §8.1: trailers end the stream; content-length must match what came.
            if !endStream || (stream.expectedLength.map { $0 != stream.receivedLength } ?? false) {
                try streamError(id, .protocolError, &handler)
                return
            }
            endRemote(id)
            try handler.handle(.trailers(streamID: id, list), connection: &self)
        }
    }

    /// The peer ended its side of the stream.
    mutating func endRemote(_ id: UInt32) {
        guard let index = streams.index(forKey: id) else { return }
        switch streams.values[index].phase {
        case .open: streams.values[index].phase = .halfClosedRemote
        default: removeStream(id)
        }
    }

    // MARK: RST_STREAM (§6.4)

    private mutating func receiveReset<Handler: HTTP2EventHandler>(
        _ id: UInt32, _ code: HTTP2ErrorCode, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        if streams[id] != nil {
            removeStream(id)
            try handler.handle(.streamReset(streamID: id, code: code, byPeer: true), connection: &self)
            try countReset(id)
        } else if isIdle(id) {
            throw HTTP2ConnectionError(.frameOnIdleStream, code: .protocolError, streamID: id)
        }
    }

    // MARK: SETTINGS (§6.5)

    private mutating func receiveSettingsAck<Handler: HTTP2EventHandler>(_ handler: inout Handler) throws(HTTP2ConnectionError) {
        guard !pendingLocalSettings.isEmpty else { return }
        let settings = pendingLocalSettings.removeFirst()
        // The next SETTINGS, if any, is timed from this ACK (it was sent no earlier).
        settingsWaitStart = pendingLocalSettings.isEmpty ? nil : now
        for setting in settings {
            let value = Int(setting.value)
            switch setting.parameter {
            case .headerTableSize:
                decoder.setMaxTableSize(value)
            case .initialWindowSize:
                applyLocalInitialWindow(value)
            case .maxHeaderListSize:
                decoder.setMaxHeaderListSize(value)
            default:
                break
            }
        }
        try handler.handle(.settingsAcknowledged, connection: &self)
    }

    /// §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE moves every stream's receive window.
    mutating func applyLocalInitialWindow(_ value: Int) {
        let delta = value &- localInitialWindow
        guard delta != 0 else { return }
        localInitialWindow = value
        for index in streams.indices {
            streams.values[index].receiveWindow &+= delta
            if streams.values[index].peerMaySend { sendOwedCredit(at: index) }
        }
    }

    private mutating func receiveSettings<Handler: HTTP2EventHandler>(
        _ view: HTTP2SettingsView, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        let windowGrowth = try applyPeerSettings(view)
        HTTP2FrameEncoder.appendSettings([], ack: true, into: &outbound)
        pendingSettingsAcks &+= 1
        if pendingSettingsAcks > configuration.maxPendingSettingsAcks {
            throw HTTP2ConnectionError(.settingsFlood, code: .enhanceYourCalm)
        }
        if case .awaitingSettings = state { state = .active }
        try handler.handle(.settingsChanged(peerSettings), connection: &self)
        // §6.9.2: a larger SETTINGS_INITIAL_WINDOW_SIZE opens every stream's send window; say
        // so with the same event a WINDOW_UPDATE gives, once per stream we may still send on.
        if windowGrowth > 0 {
            var grown: [UInt32] = []
            for (id, stream) in streams where stream.weMaySend { grown.append(id) }
            grown.sort()
            for id in grown where streams[id] != nil {
                try handler.handle(.windowUpdated(streamID: id, increment: UInt32(windowGrowth)), connection: &self)
            }
        }
    }

    /// Applies the peer's settings; returns how much SETTINGS_INITIAL_WINDOW_SIZE grew (0 if
    /// it did not).
    @discardableResult
    mutating func applyPeerSettings(_ view: HTTP2SettingsView) throws(HTTP2ConnectionError) -> Int {
        var windowGrowth = 0
        for setting in view {
            let value = Int(setting.value)
            switch setting.parameter {
            case .headerTableSize:
                peerSettings.headerTableSize = value
                encoder.setPeerMaxTableSize(value)
            case .enablePush:
                // §6.5.2: 0 or 1, and a server never sends 1.
                guard value <= 1, role == .server || value == 0 else {
                    throw HTTP2ConnectionError(.invalidSetting, code: .protocolError)
                }
                peerSettings.enablePush = value == 1
            case .maxConcurrentStreams:
                peerSettings.maxConcurrentStreams = value
            case .initialWindowSize:
                guard value <= http2MaxWindowSize else {
                    throw HTTP2ConnectionError(.invalidSetting, code: .flowControlError)
                }
                let delta = value &- peerSettings.initialWindowSize
                windowGrowth = delta
                peerSettings.initialWindowSize = value
                // §6.9.2: applied to every open stream; overflow is a connection error.
                for index in streams.indices {
                    streams.values[index].sendWindow &+= delta
                    if streams.values[index].sendWindow > http2MaxWindowSize {
                        throw HTTP2ConnectionError(.windowOverflow, code: .flowControlError, streamID: streams.keys[index])
                    }
                }
            case .maxFrameSize:
                guard value >= http2DefaultMaxFrameSize && value <= http2MaxAllowedFrameSize else {
                    throw HTTP2ConnectionError(.invalidSetting, code: .protocolError)
                }
                peerSettings.maxFrameSize = value
            case .maxHeaderListSize:
                peerSettings.maxHeaderListSize = value
            case .enableConnectProtocol:
                guard value <= 1 else { throw HTTP2ConnectionError(.invalidSetting, code: .protocolError) }
                peerSettings.enableConnectProtocol = value == 1
            case .noRFC7540Priorities:
                guard value <= 1 else { throw HTTP2ConnectionError(.invalidSetting, code: .protocolError) }
                peerSettings.noRFC7540Priorities = value == 1
            default:
                break  // §6.5.2: unknown settings are ignored.
            }
        }
        return max(0, windowGrowth)
    }

    // MARK: GOAWAY (§6.8)

    private mutating func receiveGoaway<Handler: HTTP2EventHandler>(
        _ last: UInt32, _ code: HTTP2ErrorCode, _ debug: UnsafeRawBufferPointer, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        goawayReceivedLastStreamID = min(goawayReceivedLastStreamID ?? last, last)
        try handler.handle(.goaway(lastStreamID: last, code: code, debugData: debug), connection: &self)
        // Streams we started above `last` were never processed: safe to retry elsewhere.
        var refused: [UInt32] = []
        for id in streams.keys where !isPeerInitiated(id) && id > last { refused.append(id) }
        refused.sort()
        for id in refused where streams[id] != nil {  // the handler may have reset some
            removeStream(id)
            try handler.handle(.streamReset(streamID: id, code: .refusedStream, byPeer: true), connection: &self)
        }
    }

    // MARK: WINDOW_UPDATE (§6.9)

    private mutating func receiveWindowUpdate<Handler: HTTP2EventHandler>(
        _ id: UInt32, _ increment: UInt32, _ handler: inout Handler
    ) throws(HTTP2ConnectionError) {
        if id == 0 {
            connectionSendWindow &+= Int(increment)
            guard connectionSendWindow <= http2MaxWindowSize else {
                throw HTTP2ConnectionError(.windowOverflow, code: .flowControlError)
            }
            try handler.handle(.windowUpdated(streamID: 0, increment: increment), connection: &self)
            return
        }
        guard let index = streams.index(forKey: id) else {
            if isIdle(id) { throw HTTP2ConnectionError(.frameOnIdleStream, code: .protocolError, streamID: id) }
            return  // closed: WINDOW_UPDATE may cross a close (§5.1).
        }
        streams.values[index].sendWindow &+= Int(increment)
        if streams.values[index].sendWindow > http2MaxWindowSize {
            try streamError(id, .flowControlError, &handler)
            return
        }
        try handler.handle(.windowUpdated(streamID: id, increment: increment), connection: &self)
    }
}
