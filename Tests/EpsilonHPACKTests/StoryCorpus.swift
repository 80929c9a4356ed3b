import EpsilonHPACK
import Foundation
import Testing

/// Every story of every encoder folder decodes to its headers, and the raw-data stories agree.
@Suite struct StoryCorpus {
    static let encoderFolders = ["nghttp2", "nghttp2-change-table-size", "haskell-http2-static-huffman", "swift-nio-hpack-plain-text"]

    @Test(arguments: encoderFolders)
    func everyStoryDecodesToItsHeaders(_ folder: String) throws {
        let files = try Vectors.storyFiles(in: folder)
        #expect(files.count >= 31)
        var cases = 0
        for file in files {
            var decoder = HPACKHeaderBlockDecoder()
            for storyCase in try Vectors.story(file) {
                let wire = try #require(storyCase.wire)
                if let size = storyCase.headerTableSize { decoder.setMaxTableSize(size) }
                var fields: [FieldBytes] = []
                try decoder.receive(wire) { fields.append(FieldBytes(name: Array($0.name), value: Array($0.value))) }
                #expect(fields == storyCase.headers.map { FieldBytes($0.name, $0.value) }, "\(file.lastPathComponent)")
                cases += 1
            }
        }
        #expect(cases > 1000)
    }

    /// The raw-data stories (encoder input) carry the same header lists as the nghttp2 folder.
    @Test func rawDataMatchesNghttp2Headers() throws {
        let raw = try Vectors.storyFiles(in: "raw-data")
        let nghttp2 = try Vectors.storyFiles(in: "nghttp2")
        #expect(raw.count == 32 && nghttp2.count == 32)
        for (left, right) in zip(raw, nghttp2) {
            let a = try Vectors.story(left).map { $0.headers.map { FieldBytes($0.name, $0.value) } }
            let b = try Vectors.story(right).map { $0.headers.map { FieldBytes($0.name, $0.value) } }
            #expect(a == b, "\(left.lastPathComponent)")
        }
    }
}
