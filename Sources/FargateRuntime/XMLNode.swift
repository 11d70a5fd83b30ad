import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of an XML answer (EC2's Query protocol), with its text and children: enough to
/// read the few fields fta needs without a model per answer.
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

    /// The document's root element, or nil when `data` is not XML.
    public static func parse(_ data: Data) -> XMLNode? {
        let parser = XMLParser(data: data)
        let builder = Builder()
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }

    /// Builds the tree from the parser's events; the parser runs synchronously on the caller's thread.
    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var stack: [XMLNode] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                    attributes attributeDict: [String: String] = [:]) {
            let node = XMLNode(name: elementName)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            if let node = stack.popLast() { node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}
