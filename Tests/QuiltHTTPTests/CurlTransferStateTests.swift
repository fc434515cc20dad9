// The parsing libcurl's header callback does for every response: status lines and header fields, read as bytes.
import Testing
@testable import QuiltHTTP

@Suite struct CurlTransferStateTests {
    private func received(_ lines: [String]) -> CurlTransferState {
        let state = CurlTransferState(bodyBytes: [], bodyFile: nil, bodyOffset: 0, bodyLength: 0, destinationFD: -1, destinationOffset: 0)
        for line in lines {
            let bytes = Array(line.utf8)
            bytes.withUnsafeBufferPointer { state.receiveHeader($0) }
        }
        return state
    }

    @Test func theStatusIsTheCodeOfTheLastStatusLine() {
        #expect(received(["HTTP/1.1 200 OK\r\n"]).status == 200)
        #expect(received(["HTTP/2 404\r\n"]).status == 404)
        #expect(received(["HTTP/1.1  503  Slow Down\r\n"]).status == 503)
        #expect(received(["HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 206 Partial Content\r\n"]).status == 206)
        #expect(received(["HTTP/1.1 OK\r\n"]).status == 0)
        #expect(received(["HTTP/1.1\r\n"]).status == 0)
        #expect(received(["HTTP/1.1 2x0 OK\r\n"]).status == 0)
    }

    @Test func headersAreLoweredTrimmedAndStartAgainAtEachStatusLine() {
        let state = received([
            "HTTP/1.1 100 Continue\r\n", "X-Early: 1\r\n", "\r\n",
            "HTTP/1.1 200 OK\r\n", "Content-Length:  4096 \r\n", "ETag: \"abc\"\r\n", "x-amz-version-id:\tv1\r\n",
            "no colon here\r\n", "\r\n",
        ])
        #expect(state.status == 200)
        #expect(state.headers.map(\.name) == ["content-length", "etag", "x-amz-version-id"])
        #expect(state.headers.map(\.value) == ["4096", "\"abc\"", "v1"])
        let response = HTTPResponse(status: state.status, headers: state.headers, body: [])
        #expect(response.header("Content-Length") == "4096" && response.header("etag") == "\"abc\"" && response.header("date") == nil)
    }
}
