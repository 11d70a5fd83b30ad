import CCurl
import Foundation

/// One e-mail for `MailTransport`: plain text, to one or more recipients.
public struct MailMessage: Sendable {
    /// `smtp://host:port` (STARTTLS when the server offers it) or `smtps://host:port` (TLS).
    public var url: String
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public var username: String?
    public var password: String?
    public var timeout: Duration

    public init(url: String, from: String, to: [String], subject: String, body: String, username: String? = nil, password: String? = nil,
                timeout: Duration = .seconds(20)) {
        self.url = url
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.username = username
        self.password = password
        self.timeout = timeout
    }

    /// RFC 5322 text with CRLF line ends. Header values lose any line break, so that a subject
    /// made from a bot's name can never add a header.
    public var rfc5322: Data {
        func clean(_ value: String) -> String { value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") }
        let date = Self.dateFormatter.string(from: Date())
        var lines = ["Date: \(date)", "From: \(clean(from))", "To: \(to.map(clean).joined(separator: ", "))", "Subject: \(clean(subject))",
                     "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", ""]
        // A line holding a lone "." would end the DATA phase early: SMTP's dot-stuffing.
        lines += body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return Data((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()
}

/// Sends mail with libcurl's SMTP client (STARTTLS, TLS, AUTH), on the transport's thread pool.
public enum MailTransport {
    public static func send(_ message: MailMessage) async throws(TransportError) {
        let result: Result<Void, TransportError>
        do {
            result = try await HTTPTransport.pool.runIfActive { MailHandle().send(message) }
        } catch {
            throw .failed("thread pool is not running")
        }
        try result.get()
    }
}

/// One libcurl easy handle for one message.
final class MailHandle {
    // libcurl's global state first, as for every HTTP handle.
    private let handle: UnsafeMutableRawPointer = {
        _ = CurlHandle.globalInit
        return curl_easy_init()
    }()
    private var recipients: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init() { errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1) }

    deinit {
        curl_easy_cleanup(handle)
        if let recipients { curl_slist_free_all(recipients) }
        errorBuffer.deallocate()
    }

    func send(_ message: MailMessage) -> Result<Void, TransportError> {
        _ = fta_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = fta_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        _ = fta_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = fta_curl_setopt_string(handle, CURLOPT_URL, message.url)
        // Encrypt whenever the server can: STARTTLS on smtp://, TLS from the start on smtps://.
        _ = fta_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        if let username = message.username, !username.isEmpty {
            _ = fta_curl_setopt_string(handle, CURLOPT_USERNAME, username)
            _ = fta_curl_setopt_string(handle, CURLOPT_PASSWORD, message.password ?? "")
        }
        _ = fta_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(message.from)>")
        for recipient in message.to { recipients = curl_slist_append(recipients, "<\(recipient)>") }
        _ = fta_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        _ = fta_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(message.timeout.milliseconds))
        _ = fta_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000)
        let source = MailSource(message.rfc5322)
        _ = fta_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        _ = fta_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(source.data.count))
        _ = fta_curl_setopt_read_function(handle) { buffer, size, count, userdata in
            let source = Unmanaged<MailSource>.fromOpaque(userdata!).takeUnretainedValue()
            let length = min(size * count, source.data.count - source.offset)
            guard length > 0, let buffer else { return 0 }
            source.data.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + source.offset, byteCount: length)
            }
            source.offset += length
            return length
        }
        let code = withExtendedLifetime(source) { () -> CURLcode in
            _ = fta_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else { return .failure(TransportError(code, errorBuffer: errorBuffer)) }
        return .success(())
    }
}

private final class MailSource {
    let data: Data
    var offset = 0
    init(_ data: Data) { self.data = data }
}
