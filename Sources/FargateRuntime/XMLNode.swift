import Foundation

/// An element of an XML answer (EC2's Query protocol), with its text and children: enough to
/// read the few fields fta needs without a model per answer.
///
/// Read by a small reader of its own rather than FoundationXML: FoundationXML links libxml2,
/// which a fresh server does not have, and the release binary must run there with nothing
/// installed beside it (the VM install test caught exactly that). EC2's answers are plain
/// elements and text: no DTD, no CDATA in the fields fta reads.
public final class XMLNode: @unchecked Sendable {
    public let name: String
    public fileprivate(set) var text = ""
    public fileprivate(set) var children: [XMLNode] = []

    init(name: String) { self.name = name }

    /// The first element named `name` at any depth below (or at) this one.
    public func first(_ name: String) -> XMLNode? {
        if self.name == name { return self }
        for child in children { if let found = child.first(name) { return found } }
        return nil
    }

    /// The direct children named `name`.
    public func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// The text of the direct child named `name`.
    public func value(_ name: String) -> String? { children.first { $0.name == name }?.text }

    /// The `<item>`s of the list element `name` directly below this one (EC2 wraps lists so).
    public func items(_ name: String) -> [XMLNode] { children.first { $0.name == name }?.children("item") ?? [] }

    /// The document's root element, or nil when `data` is not well-formed XML of that kind.
    public static func parse(_ data: Data) -> XMLNode? {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        var root: XMLNode?
        var stack: [XMLNode] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            guard let open = rest.firstIndex(of: "<") else {
                // Text after the root (whitespace) or before it.
                if !rest.allSatisfy(\.isWhitespace) { return nil }
                break
            }
            if let parent = stack.last, open > rest.startIndex {
                guard let decoded = decodeEntities(rest[rest.startIndex..<open]) else { return nil }
                parent.text += decoded
            } else if stack.isEmpty, !rest[rest.startIndex..<open].allSatisfy(\.isWhitespace) {
                return nil
            }
            rest = rest[open...]
            if rest.hasPrefix("<?") {
                guard let end = rest.range(of: "?>") else { return nil }
                rest = rest[end.upperBound...]
            } else if rest.hasPrefix("<!--") {
                guard let end = rest.range(of: "-->") else { return nil }
                rest = rest[end.upperBound...]
            } else if rest.hasPrefix("<![CDATA[") {
                guard let end = rest.range(of: "]]>"), let parent = stack.last else { return nil }
                parent.text += rest[rest.index(rest.startIndex, offsetBy: 9)..<end.lowerBound]
                rest = rest[end.upperBound...]
            } else if rest.hasPrefix("<!") {
                return nil  // a DTD: EC2 sends none, and fta reads none
            } else {
                guard let close = rest.firstIndex(of: ">") else { return nil }
                var tag = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if tag.hasPrefix("/") {
                    let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                    guard let node = stack.popLast(), node.name == name else { return nil }
                    node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
                    continue
                }
                let selfClosing = tag.hasSuffix("/")
                if selfClosing { tag = tag.dropLast() }
                // The name ends at the first space; attributes are not read.
                let name = String(tag.prefix { !$0.isWhitespace })
                guard !name.isEmpty else { return nil }
                let node = XMLNode(name: name)
                if let parent = stack.last { parent.children.append(node) } else if root == nil { root = node } else { return nil }
                if !selfClosing { stack.append(node) }
            }
        }
        return stack.isEmpty ? root : nil
    }

    /// Text with XML's five entities and numeric references decoded; nil for an unknown entity.
    static func decodeEntities(_ text: Substring) -> String? {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[rest.startIndex..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { return nil }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let hex = entity.hasPrefix("#x") || entity.hasPrefix("#X")
                guard entity.hasPrefix("#"), let code = UInt32(entity.dropFirst(hex ? 2 : 1), radix: hex ? 16 : 10),
                      let scalar = Unicode.Scalar(code) else { return nil }
                out.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
