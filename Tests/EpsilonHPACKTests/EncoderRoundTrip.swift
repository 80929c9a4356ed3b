import EpsilonHPACK
import Foundation
import Testing

/// Our encoder over every raw-data story (4096-octet table): our decoder and Python's `hpack`
/// package (a real peer, installed by .ci/run) both give the input back.
@Suite struct EncoderRoundTripWithPythonHPACK {
    struct EncodedStory {
        var name: String
        var headers: [[HPACKHeaderField]]
        var blocks: [[UInt8]]
    }

    static func encodeRawData(configuration: HPACKHeaderBlockEncoder.Configuration = .init()) throws -> [EncodedStory] {
        try Vectors.storyFiles(in: "raw-data").map { file in
            var encoder = HPACKHeaderBlockEncoder(configuration: configuration)
            let lists = try Vectors.story(file).map { $0.headers.map { HPACKHeaderField($0.name, $0.value) } }
            let blocks = lists.map { list in
                var block: [UInt8] = []
                encoder.encode(list, into: &block)
                return block
            }
            return EncodedStory(name: file.lastPathComponent, headers: lists, blocks: blocks)
        }
    }

    @Test func ourDecoderGivesBackEveryList() throws {
        let stories = try Self.encodeRawData()
        #expect(stories.count == 32)
        for story in stories {
            var decoder = HPACKHeaderBlockDecoder()
            for (block, list) in zip(story.blocks, story.headers) {
                let fields = try decoder.decodeFields(block)
                #expect(fields.map { FieldBytes($0.name, $0.value) } == list.map { FieldBytes($0.name, $0.value) }, "\(story.name)")
            }
        }
    }

    @Test func pythonHPACKGivesBackEveryListAndSizeIsReported() throws {
        let stories = try Self.encodeRawData()
        // One JSON document: per story, the blocks as hex. Python answers per story, per block,
        // the fields as [name hex, value hex].
        let request = stories.map { $0.blocks.map(Vectors.hexString) }
        let input = try JSONSerialization.data(withJSONObject: request)
        let script = """
            import json, sys
            try:
                import hpack
            except ImportError:
                print("python hpack package missing: pip install hpack", file=sys.stderr)
                sys.exit(3)
            out = []
            for story in json.load(sys.stdin):
                d = hpack.Decoder()
                d.max_header_list_size = 1 << 24
                out.append([[[n.hex(), v.hex()] for n, v in d.decode(bytes.fromhex(b), raw=True)] for b in story])
            json.dump(out, sys.stdout)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write and read on separate threads: either side can fill a pipe buffer.
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0,
                     "python3 with hpack failed (\(process.terminationStatus)): \(String(decoding: errors, as: UTF8.self))")
        let answer = try #require(try JSONSerialization.jsonObject(with: output) as? [[[[String]]]])
        #expect(answer.count == stories.count)
        var fieldCount = 0
        for (story, decodedBlocks) in zip(stories, answer) {
            #expect(decodedBlocks.count == story.headers.count)
            for (list, decoded) in zip(story.headers, decodedBlocks) {
                let got = decoded.map { FieldBytes(name: Vectors.hex($0[0]), value: Vectors.hex($0[1])) }
                #expect(got == list.map { FieldBytes($0.name, $0.value) }, "\(story.name)")
                fieldCount += got.count
            }
        }
        #expect(fieldCount > 10_000)

        let ours = stories.map { $0.blocks.map(\.count).reduce(0, +) }.reduce(0, +)
        let nghttp2 = try Vectors.storyFiles(in: "nghttp2").map { file in
            try Vectors.story(file).map { $0.wire?.count ?? 0 }.reduce(0, +)
        }.reduce(0, +)
        print("HPACK encoded size over raw-data: Epsilon \(ours) bytes, nghttp2 folder \(nghttp2) bytes (ratio \(String(format: "%.4f", Double(ours) / Double(nghttp2))))")
        #expect(ours <= nghttp2, "Epsilon \(ours) bytes > nghttp2 \(nghttp2) bytes")
    }
}
