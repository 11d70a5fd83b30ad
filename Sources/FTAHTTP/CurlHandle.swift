import CCurl
import Foundation

/// One libcurl easy handle, reused for request after request (HTTPTransport's pool).
///
/// Reuse is what keeps connections alive: an easy handle keeps its connection cache across
/// `curl_easy_reset`, so the next request to the same bot (or the socket proxy) goes out on the
/// open connection instead of a new TCP handshake. Not `Sendable`: a handle is used by one
/// thread-pool thread at a time, and the pool hands it over only between requests.
final class CurlHandle {
    private let handle: UnsafeMutableRawPointer
    /// Owned C memory: libcurl keeps the pointer until the handle is cleaned up.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    /// libcurl's global state is initialised once per process, before any handle exists.
    static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    init() {
        _ = Self.globalInit
        handle = curl_easy_init()
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs `request` and returns its status and body, or a transport error.
    func perform(_ request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        // Every option of the previous request goes; its open connections stay.
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let sink = ResponseSink(limit: request.maxResponseBytes)
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { if let headers { curl_slist_free_all(headers) } }
        // No signals from libcurl in a multithreaded server (timeouts would raise SIGALRM).
        set(CURLOPT_NOSIGNAL, 1)
        // Only plain HTTP(S): no file://, no redirects to other protocols, no redirects at all.
        _ = fta_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        if !request.keepAlive {
            set(CURLOPT_FRESH_CONNECT, 1)
            set(CURLOPT_FORBID_REUSE, 1)
        }
        _ = fta_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = fta_curl_setopt_string(handle, CURLOPT_URL, request.url)
        if let socket = request.unixSocketPath {
            _ = fta_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket)
        }
        _ = fta_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        if request.method == "HEAD" { set(CURLOPT_NOBODY, 1) }
        set(CURLOPT_TIMEOUT_MS, Int(request.timeout.milliseconds))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, request.connectTimeout).milliseconds))

        for (name, value) in request.headers {
            headers = curl_slist_append(headers, "\(name): \(value)")
        }
        if let body = request.body {
            // COPYPOSTFIELDS: libcurl keeps its own copy, so no Swift buffer must outlive this call.
            _ = fta_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { _ = fta_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) }
            // No "Expect: 100-continue" round trip.
            headers = curl_slist_append(headers, "Expect:")
        }
        _ = fta_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)

        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        _ = fta_curl_setopt_write_function(handle) { data, size, count, userdata in
            let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            guard sink.data.count + length <= sink.limit else {
                sink.overflowed = true
                return 0  // aborts the transfer with CURLE_WRITE_ERROR
            }
            if let data { sink.data.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length) }
            return length
        }
        _ = fta_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)

        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        // The header list is freed when this returns: libcurl must not keep a pointer to it.
        _ = fta_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR && sink.overflowed { return .failure(.responseTooLarge) }
            return .failure(TransportError(code, errorBuffer: errorBuffer))
        }
        var status = 0
        _ = fta_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, body: sink.data))
    }

    private func set(_ option: CURLoption, _ value: Int) {
        _ = fta_curl_setopt_long(handle, option, value)
    }
}

/// Collects a response body up to a limit.
private final class ResponseSink {
    var data = Data()
    var overflowed = false
    let limit: Int
    init(limit: Int) { self.limit = limit }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension TransportError {
    /// A failed `curl_easy_perform`, in the transport's terms (HTTP and SMTP alike); the text is
    /// libcurl's error buffer, or its generic message for the code.
    init(_ code: CURLcode, errorBuffer: UnsafeMutablePointer<CChar>) {
        let detail = String(cString: errorBuffer).isEmpty ? String(cString: curl_easy_strerror(code)) : String(cString: errorBuffer)
        switch code {
        case CURLE_OPERATION_TIMEDOUT: self = .timeout(detail)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: self = .unreachable(detail)
        default: self = .failed(detail)
        }
    }
}


/// A handle moves between pool threads only while idle, through HTTPTransport's locked list.
extension CurlHandle: @unchecked Sendable {}
