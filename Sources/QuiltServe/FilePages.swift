// A file: its page with a preview, its bytes inline (images), and its download. Every byte comes from EntryReader,
// checked against the entry's hash before it is handed out: a preview of a damaged object is an error on the page,
// and a download of one is an error response, or (when the damage is found past the first chunk, after some bytes
// went out) a response cut short, which the client sees as failed. No damaged byte is ever sent.
import Foundation
import CSV
import Hummingbird
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// How a file is previewed, by its name.
enum Preview {
    enum Kind: Equatable {
        case image(mime: String)
        case markdown, table(delimiter: UnicodeScalar), json, text
    }

    /// The first bytes of a text file shown.
    static let textLimit = 64 << 10
    /// The most read for a table, Markdown or JSON.
    static let documentLimit = 1 << 20
    static let tableRows = 200

    static let imageTypes: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "bmp": "image/bmp", "ico": "image/x-icon", "avif": "image/avif", "svg": "image/svg+xml",
    ]

    static func kind(of key: String) -> Kind {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return .text }
        let ext = name[name.index(after: dot)...].lowercased()
        if let mime = imageTypes[ext] { return .image(mime: mime) }
        switch ext {
        case "md", "markdown": return .markdown
        case "csv": return .table(delimiter: ",")
        case "tsv", "tab": return .table(delimiter: "\t")
        case "json", "geojson", "ipynb": return .json
        default: return .text
        }
    }

    /// `bytes` as text if they are: UTF-8 (a character cut by `cut` dropped) without NULs; else binary.
    static func text(_ bytes: [UInt8], cut: Bool) -> (text: String, cut: Bool, binary: Bool) {
        var end = bytes.count
        if cut {
            // A multi-byte character cut at the end (at most three of its bytes) is dropped.
            for drop in 1...3 where end - drop >= 0 && String(validating: bytes[..<end], as: UTF8.self) == nil {
                if String(validating: bytes[..<(bytes.count - drop)], as: UTF8.self) != nil {
                    end = bytes.count - drop
                    break
                }
            }
        }
        let body = bytes[..<end]
        guard !body.contains(0), let text = String(validating: body, as: UTF8.self) else { return ("", cut, true) }
        return (text, cut, false)
    }

    /// The first rows of a CSV or TSV text as a table: the first row as its head.
    static func table(_ text: String, delimiter: UnicodeScalar, cut: Bool) -> (html: String, rows: Int)? {
        var text = text
        // A file read in part ends inside a row: that row is left out.
        if cut, let lastNewline = text.lastIndex(of: "\n") { text = String(text[...lastNewline]) }
        guard let reader = try? CSVReader(string: text, hasHeaderRow: false, trimFields: false, delimiter: delimiter) else { return nil }
        var html = "<table class=\"data\">"
        var rows = 0
        while rows <= tableRows, let row = reader.next() {
            let cell = rows == 0 ? "th" : "td"
            html += rows == 0 ? "<thead><tr>" : "<tr>"
            for field in row { html += "<\(cell)>" + escapeHTML(field) + "</\(cell)>" }
            html += rows == 0 ? "</tr></thead><tbody>" : "</tr>"
            rows += 1
        }
        if reader.error != nil && rows == 0 { return nil }
        return (html + "</tbody></table>", max(0, rows - 1))
    }
}

extension Browser {
    /// The file node `key` names, or a redirect to the directory it is.
    private func fileNode(_ opened: OpenedRevision, _ key: String) throws -> RevisionIndex.Node {
        let node = try node(opened, key)
        guard !node.isDirectory else { throw ReadError.isADirectory(key) }
        return node
    }

    func filePage(_ place: Route.Place, key: String) async throws -> Reply {
        let opened = try await blocking { try self.open(place) }
        let node = try node(opened, key)
        if node.isDirectory { return .bytes(status: .found, headers: [.location: Link.tree(opened.place, key)], body: []) }
        let entry = try opened.index.entry(node.id)
        return .page(status: .ok, title: node.name + " · " + opened.name, crumbs: crumbs(opened, path: key)) { page in
            var uri = opened.uri
            uri.path = key
            var context: [String: Any] = [
                "name": node.name, "key": key, "size": Format.size(entry.size), "bytes": Format.count(entry.size),
                "hashType": entry.hash?.type ?? "", "hash": entry.hash?.value ?? "", "physicalKey": entry.physicalKey,
                "downloadHref": Link.download(opened.place, key), "uri": uri.text,
            ]
            if entry.meta != .object(JSONObject()) && entry.meta != .null { context["meta"] = JSONViews.tree(entry.meta) }
            do {
                let (preview, note) = try self.preview(opened, node, key: key, entry: entry)
                context["preview"] = preview
                if let note { context["note"] = note }
            } catch let cancelled as ChunkQueue.Cancelled {
                throw cancelled
            } catch {
                let (_, message, hint) = Browser.classify(error)
                context["failure"] = message + (hint.map { " (\($0))" } ?? "")
            }
            try page.render("file", context)
        }
    }

    /// The preview's HTML and a note on what it shows.
    func preview(_ opened: OpenedRevision, _ node: RevisionIndex.Node, key: String, entry: ManifestEntry) throws -> (String, String?) {
        let directory = key.split(separator: "/").dropLast().joined(separator: "/")
        switch Preview.kind(of: key) {
        case .image:
            // The bytes come with the image's own request, checked as every download is.
            return ("<p class=\"image\"><img src=\"\(escapeHTML(Link.raw(opened.place, key)))\" alt=\"\(escapeHTML(node.name))\"></p>", nil)
        case .markdown:
            let read = try readText(opened, node, limit: Preview.documentLimit)
            if read.binary { return ("", "Not UTF-8 text: no preview.") }
            return ("<article class=\"markdown\">" + markdown(read.text, of: opened, directory: directory) + "</article>",
                    read.cut ? "Rendered from the first 1 MiB." : nil)
        case .table(let delimiter):
            let read = try readText(opened, node, limit: Preview.documentLimit)
            if !read.binary, let table = Preview.table(read.text, delimiter: delimiter, cut: read.cut) {
                let more = read.cut || table.rows >= Preview.tableRows
                return ("<div class=\"scroll\">" + table.html + "</div>",
                        "\(Format.count(table.rows)) rows" + (more ? " (the first \(Preview.tableRows) at most)" : ""))
            }
            return try textPreview(opened, node)
        case .json:
            if entry.size <= Preview.documentLimit {
                let read = try readText(opened, node, limit: Preview.documentLimit)
                if !read.binary, let value = try? JSONParser.parse(read.text) {
                    return ("<pre class=\"json\">" + JSONViews.pretty(value) + "</pre>", nil)
                }
            }
            return try textPreview(opened, node)
        case .text:
            return try textPreview(opened, node)
        }
    }

    /// The first 64 KiB as text (an HTML file too: shown as text, never rendered).
    func textPreview(_ opened: OpenedRevision, _ node: RevisionIndex.Node) throws -> (String, String?) {
        let read = try readText(opened, node, limit: Preview.textLimit)
        if read.binary { return ("", "Binary data: no preview. Download it to see it.") }
        return ("<pre class=\"text\">" + escapeHTML(read.text) + "</pre>", read.cut ? "The first 64 KiB." : nil)
    }

    // MARK: Bytes

    /// An image's bytes, inline, with its type; anything else has no inline view (it would be the stored file's
    /// type, which a browser could take for a page).
    func rawBytes(_ place: Route.Place, key: String, request: Request, isHead: Bool) async throws -> Reply {
        guard case .image(let mime) = Preview.kind(of: key) else { throw ServeError.noInlineView(key) }
        return try await bytes(place, key: key, request: request, isHead: isHead) { name in
            [.contentType: mime, .contentDisposition: Self.disposition("inline", name),
             .contentSecurityPolicy: Browser.rawContentSecurityPolicy]
        }
    }

    func download(_ place: Route.Place, key: String, request: Request, isHead: Bool) async throws -> Reply {
        try await bytes(place, key: key, request: request, isHead: isHead) { name in
            [.contentType: "application/octet-stream", .contentDisposition: Self.disposition("attachment", name)]
        }
    }

    /// A file's verified bytes (one range of them if asked), streamed; the first chunk is checked before the
    /// status is chosen, so a damaged object found at once is an error response.
    func bytes(_ place: Route.Place, key: String, request: Request, isHead: Bool,
               headers: @escaping (String) -> HTTPFields) async throws -> Reply {
        let (opened, node, handle) = try await blocking { () throws -> (OpenedRevision, RevisionIndex.Node, EntryHandle) in
            let opened = try self.open(place)
            let node = try self.fileNode(opened, key)
            return (opened, node, try self.reader.open(try opened.index.entry(node.id)))
        }
        var fields = headers(node.name)
        fields[.acceptRanges] = "bytes"
        if let hash = handle.entry.hash { fields[.eTag] = "\"" + hash.value + "\"" }
        // A revision named by its full top hash never changes.
        if place.revision == opened.topHash { fields[.cacheControl] = "private, max-age=31536000, immutable" }
        if let tag = fields[.eTag], request.headers[.ifNoneMatch] == tag {
            return .stream(status: .notModified, headers: fields, length: nil, queue: nil)
        }
        var status = HTTPResponse.Status.ok
        var range = 0..<handle.size
        if let header = request.headers[.range], request.headers[.ifRange].map({ $0 == fields[.eTag] }) ?? true {
            switch Self.byteRange(header, size: handle.size) {
            case .whole: break
            case .part(let part):
                range = part
                status = .partialContent
                fields[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound - 1)/\(handle.size)"
            case .unsatisfiable:
                fields[.contentRange] = "bytes */\(handle.size)"
                return .stream(status: .rangeNotSatisfiable, headers: fields, length: 0, queue: nil)
            }
        }
        if isHead { return .stream(status: status, headers: fields, length: range.count, queue: nil) }
        let part = range
        let queue = ChunkQueue.start { writer in
            try handle.read(part) { try writer.write($0) }
        }
        if let failure = await queue.failureBeforeFirstChunk() { throw failure }
        return .stream(status: status, headers: fields, length: range.count, queue: queue)
    }

    enum ByteRange: Equatable {
        case whole
        case part(Range<Int>)
        case unsatisfiable
    }

    /// One range of `Range: bytes=…` (`a-b`, `a-`, `-n`); several ranges, or a header not understood, get the whole.
    static func byteRange(_ header: String, size: Int) -> ByteRange {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingWhitespace
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let first = parts[0].isEmpty ? nil : Int(parts[0]), last = parts[1].isEmpty ? nil : Int(parts[1])
        if !parts[0].isEmpty && first == nil || !parts[1].isEmpty && last == nil { return .whole }
        switch (first, last) {
        case (let a?, let b?):
            guard a <= b else { return .whole }
            guard a < size else { return .unsatisfiable }
            return .part(a..<min(b + 1, size))
        case (let a?, nil):
            guard a < size else { return .unsatisfiable }
            return .part(a..<size)
        case (nil, let n?):
            guard n > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - n)..<size)
        case (nil, nil):
            return .whole
        }
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
    static func disposition(_ kind: String, _ name: String) -> String {
        let ascii = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar.value != 0x7F ? Character(scalar) : "_"
        })
        return "\(kind); filename=\"\(ascii)\"; filename*=UTF-8''" + PercentEncoding.encode(name)
    }
}
