// Owns one libcurl easy handle; reused across requests so its connection cache keeps connections alive.
internal import CCurl
internal import CCurlShims
import QuiltSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif


// The callbacks are plain C function pointers; the context pointer is the transfer state.
private let readCallback: quilt_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return quilt_curl_readfunc_abort() }
    let state = Unmanaged<CurlTransferState>.fromOpaque(context).takeUnretainedValue()
    return state.read(into: buffer, capacity: size * count) ?? quilt_curl_readfunc_abort()
}

private let seekCallback: quilt_curl_seek_callback = { context, offset, origin in
    guard let context, origin == SEEK_SET else { return 2 }  // CURL_SEEKFUNC_CANTSEEK
    let state = Unmanaged<CurlTransferState>.fromOpaque(context).takeUnretainedValue()
    return state.seek(to: Int(offset)) ? 0 : 1  // CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL
}

private let headerCallback: quilt_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let state = Unmanaged<CurlTransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        state.receiveHeader(UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private let writeCallback: quilt_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let state = Unmanaged<CurlTransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let ok = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        state.receiveBody(UnsafeBufferPointer(start: $0, count: length))
    }
    return ok ? length : 0
}

/// Timeouts, limits and TLS trust applied to every request of a handle.
struct CurlTimeouts {
    var connectMilliseconds: Int
    /// Zero means no limit on the whole request (large transfers are guarded by the stall limit instead).
    var requestMilliseconds: Int
    /// Abort when fewer than one byte per second moved for this many seconds; zero turns it off.
    var stallSeconds: Int
    var caBundlePath: String?
}

/// One CURL easy handle, owned and freed here; used by one thread at a time (the pool guarantees it).
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Loads libcurl at the first handle of the process (CCurlShims.h says why it is not linked). Throws why it
    /// could not be loaded, or why a handle could not be made.
    init() throws {
        guard quilt_curl_load() == CURLE_OK else {
            throw HTTPError.unavailable(detail: quilt_curl_load_error().map { String(cString: $0) } ?? "cannot initialise libcurl")
        }
        guard let handle = quilt_curl_easy_init() else {
            throw HTTPError.unavailable(detail: "curl_easy_init failed")
        }
        self.handle = handle
        // CURL_ERROR_SIZE is 256.
        errorBuffer = .allocate(capacity: 256)
        errorBuffer.initialize(repeating: 0, count: 256)
    }

    deinit {
        quilt_curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs one request synchronously on the calling thread.
    func perform(_ request: HTTPRequest, destination: HTTPResponseDestination, timeouts: CurlTimeouts) throws -> HTTPResponse {
        // reset keeps the connection and DNS caches, which is the point of reusing the handle.
        quilt_curl_easy_reset(handle)
        errorBuffer[0] = 0

        var bodyFile: InputFile?
        var bodyOffset = 0
        var bodyBytes: [UInt8] = []
        switch request.body {
        case .empty: break
        case .bytes(let bytes): bodyBytes = bytes
        case .fileRange(let path, let offset, _):
            do {
                bodyFile = try InputFile(path: path)
            } catch {
                throw HTTPError.localFile(path: path, detail: error.reason)
            }
            bodyOffset = offset
        }

        var destinationFD: Int32 = -1
        var destinationOffset = 0
        if case .file(let descriptor, let offset) = destination {
            destinationFD = descriptor
            destinationOffset = offset
        }
        let state = CurlTransferState(
            bodyBytes: bodyBytes, bodyFile: bodyFile, bodyOffset: bodyOffset, bodyLength: request.body.count,
            destinationFD: destinationFD, destinationOffset: destinationOffset)

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { quilt_curl_slist_free_all(headerList) }
        for header in request.headers {
            headerList = quilt_curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        let hasBody = request.method == "PUT" || request.method == "POST"
        if hasBody {
            // curl would wait for `100 Continue` before sending the body; S3 does not need the round trip.
            headerList = quilt_curl_slist_append(headerList, "Expect:")
        }

        try withExtendedLifetime(state) {
            let context = Unmanaged.passUnretained(state).toOpaque()
            try set(CURLOPT_URL, request.url)
            try set(CURLOPT_NOSIGNAL, 1)  // several threads: no SIGALRM for DNS timeouts
            try set(CURLOPT_PATH_AS_IS, 1)  // keys may contain `.` and `..` segments; never rewrite the path
            try set(CURLOPT_SSL_VERIFYPEER, 1)
            try set(CURLOPT_SSL_VERIFYHOST, 2)
            if let bundle = timeouts.caBundlePath { try set(CURLOPT_CAINFO, bundle) }
            // No TCP keepalive probes (curl's are off by default, as botocore's): a stalled transfer is caught
            // by the stall limit below, and turning them on cost three setsockopt calls per connection, which a
            // server that closes every connection (moto does) makes one per request.
            try set(CURLOPT_FOLLOWLOCATION, 0)
            try set(CURLOPT_CONNECTTIMEOUT_MS, timeouts.connectMilliseconds)
            if timeouts.requestMilliseconds > 0 { try set(CURLOPT_TIMEOUT_MS, timeouts.requestMilliseconds) }
            if timeouts.stallSeconds > 0 {
                try set(CURLOPT_LOW_SPEED_LIMIT, 1)
                try set(CURLOPT_LOW_SPEED_TIME, timeouts.stallSeconds)
            }
            try check(quilt_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer))
            try check(quilt_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback))
            try check(quilt_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, context))
            try check(quilt_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback))
            try check(quilt_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, context))
            switch request.method {
            case "GET": try set(CURLOPT_HTTPGET, 1)
            case "HEAD": try set(CURLOPT_NOBODY, 1)
            default:
                if hasBody {
                    // UPLOAD streams the body through the read callback with a known length; the method is
                    // then PUT, so anything else is named explicitly.
                    try set(CURLOPT_UPLOAD, 1)
                    try check(quilt_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count)))
                    try check(quilt_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, readCallback))
                    try check(quilt_curl_setopt_ptr(handle, CURLOPT_READDATA, context))
                    try check(quilt_curl_setopt_seek_callback(handle, CURLOPT_SEEKFUNCTION, seekCallback))
                    try check(quilt_curl_setopt_ptr(handle, CURLOPT_SEEKDATA, context))
                }
                if request.method != "PUT" { try set(CURLOPT_CUSTOMREQUEST, request.method) }
            }
            try check(quilt_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))

            let code = quilt_curl_easy_perform(handle)
            // Drop pointers into this call's memory so nothing dangles in the pooled handle.
            _ = quilt_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, nil)
            _ = quilt_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, nil)
            if code != CURLE_OK {
                let place = request.url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.url
                throw transferError(code, state: state, place: place, request: request)
            }
        }
        return HTTPResponse(status: state.status, headers: state.headers, body: state.body, bytesWritten: state.bytesWritten)
    }

    private func transferError(_ code: CURLcode, state: CurlTransferState, place: String, request: HTTPRequest) -> HTTPError {
        if let bodyError = state.bodyError, case .fileRange(let path, _, _) = request.body {
            return .localFile(path: path, detail: bodyError)
        }
        if let destinationError = state.destinationError {
            return .destination(detail: destinationError)
        }
        var detail = String(cString: errorBuffer)
        if detail.isEmpty { detail = String(cString: quilt_curl_easy_strerror(code)) }
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(url: place, detail: detail)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return .cannotConnect(url: place, detail: detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return .tls(url: place, detail: detail)
        default: return .transport(url: place, detail: detail)
        }
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(quilt_curl_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        // curl copies string options (CURLOPT_URL, CURLOPT_CUSTOMREQUEST) before returning.
        try check(value.withCString { quilt_curl_setopt_ptr(handle, option, $0) })
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else {
            throw HTTPError.transport(url: "", detail: "curl option rejected: \(String(cString: quilt_curl_easy_strerror(code)))")
        }
    }
}
