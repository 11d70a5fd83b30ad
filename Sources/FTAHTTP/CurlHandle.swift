import CCurl
import Foundation

/// One libcurl easy handle, used for one request and freed in `deinit`.
///
/// Not `Sendable`: a handle lives on the one thread-pool thread that performs its request.
final class CurlHandle {
    private let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    /// Owned C memory: libcurl keeps the pointer until the handle is cleaned up.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private let sink: ResponseSink

    /// libcurl's global state is initialised once per process, before any handle exists.
    static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    init(maxResponseBytes: Int) {
        _ = Self.globalInit
        handle = curl_easy_init()
        sink = ResponseSink(limit: maxResponseBytes)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headers { curl_slist_free_all(headers) }
        errorBuffer.deallocate()
    }

    /// Performs `request` and returns its status and body, or a transport error.
    func perform(_ request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        // No signals from libcurl in a multithreaded server (timeouts would raise SIGALRM).
        set(CURLOPT_NOSIGNAL, 1)
        // Only plain HTTP(S): no file://, no redirects to other protocols, no redirects at all.
        _ = fta_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
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

        let code = curl_easy_perform(handle)
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

