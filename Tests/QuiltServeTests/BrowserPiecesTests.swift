// The browser's pieces that decide safety and what a person sees: escaping, the URL parser, Markdown sanitizing,
// byte ranges, previews of text, tables and JSON, metadata differences.
import Testing
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltRegistry
@testable import QuiltServe

@Suite struct BrowserPiecesTests {
    @Test func escapingCannotBeHiddenInAGraphemeCluster() throws {
        // A quote followed by a combining mark is one Character; swift-mustache's own escaping misses it.
        let hostile = "x\"\u{301} onmouseover=alert(1) '\u{301}<\u{301}script>&"
        let escaped = escapeHTML(hostile)
        #expect(!escaped.utf8.contains(UInt8(ascii: "\"")) && !escaped.utf8.contains(UInt8(ascii: "<")))
        #expect(!escaped.utf8.contains(UInt8(ascii: "'")) && !escaped.utf8.contains(UInt8(ascii: ">")))
        let library = try Templates.library()
        let row = try #require(Templates.render(library, "listing-row",
                                                ["kind": "file", "href": "/x", "name": hostile, "size": "1 B", "bytes": "1", "files": ""]))
        #expect(row.contains(escaped) && !row.contains("\"\u{301}"))
        #expect(escapeHTML("plain é 🙂") == "plain é 🙂")
    }

    @Test func pathsAreLogicalKeysOrNothing() {
        let base = "/reg/ns/pkg/@latest/file/"
        #expect(Route(target: base + "a/b.txt") == .file(Route.Place(slug: "reg", name: "ns/pkg", revision: "latest"), "a/b.txt"))
        #expect(Route(target: base + "a%20b%3F%23.txt?x=1") == .file(Route.Place(slug: "reg", name: "ns/pkg", revision: "latest"), "a b?#.txt"))
        #expect(Route(target: base + "%2e%2e/%2e%2e/etc/passwd") == .file(Route.Place(slug: "reg", name: "ns/pkg", revision: "latest"), "../../etc/passwd"))
        for hostile in [base + "a%00b", base + "%ff%fe", "/reg/ns/../x/", "/reg/ns/pkg/@zzz/", "/reg/..%2f..%2f/pkg/", "/-/",
                        "/reg/ns/pkg/@latest/unknown/x", "/reg/ns/pkg/extra/", "relative", "/reg/ns/pkg/@latest/file/"] {
            #expect(Route(target: hostile) == nil, "\(hostile)")
        }
        #expect(Route(target: "/") == .home && Route(target: "/-/style.css") == .style && Route(target: "/reg/") == .registry("reg"))
        #expect(Route(target: "/reg/ns/pkg/compare?from=abc123&to=latest")
                == .compare(slug: "reg", name: "ns/pkg", from: "abc123", to: "latest"))
        #expect(Route(target: "/reg/ns/pkg/@1712345678/tree/") == .tree(Route.Place(slug: "reg", name: "ns/pkg", revision: "1712345678"), ""))
        // What a link makes, the parser reads back.
        let place = Route.Place(slug: "reg", name: "ns/pkg", revision: String(repeating: "a", count: 64))
        for key in ["a b/c?d#e%f.txt", "日本/🙂", "<script>alert(1)</script>", "x+y&z=1"] {
            #expect(Route(target: Link.file(place, key)) == .file(place, key))
            #expect(Route(target: Link.tree(place, key)) == .tree(place, key + "/"))
        }
    }

    static var resolver: Markdown.Resolver { Markdown.Resolver(link: { url in
        switch Markdown.target(url, in: "docs") {
        case .anchor(let a)?: return a
        case .external(let u)?: return u
        case .key(let k)?: return "/file/" + k
        case nil: return nil
        }
    }, image: { url in
        if case .key(let k)? = Markdown.target(url, in: "docs") { return "/raw/" + k }
        return nil
    }) }

    /// Every tag of `html` is one the allowlist has, with only the attributes it keeps.
    static func onlyAllowedTags(_ html: String) -> Bool {
        let bytes = Array(html.utf8)
        var i = 0
        while let open = bytes[i...].firstIndex(of: UInt8(ascii: "<")) {
            guard let tag = Markdown.Tag.parse(bytes, at: open), Markdown.allowedTags.contains(tag.name),
                  tag.attributes.allSatisfy({ ["href", "src", "alt", "title", "start", "class", "align"].contains($0.0) }) else {
                return false
            }
            i = open + 1
        }
        return true
    }

    @Test func markdownIsRenderedAndMadeSafe() {
        let html = Markdown.html("""
        # Title

        Some *text*, `<code>` and a [link](../data/a.csv) and [js](javascript:alert(1)) and [web](https://example.com/x).

        ![alt" onerror="alert(1)](img/p.png) ![far](https://example.com/p.png)

        | a | b |
        |---|---|
        | 1 | 2 |
        """, resolver: Self.resolver)
        #expect(html.contains("<h1>Title</h1>") && html.contains("<em>text</em>") && html.contains("<td>1</td>"))
        #expect(html.contains("<code>&lt;code&gt;</code>"))
        #expect(html.contains("<a href=\"/file/data/a.csv\">link</a>") && html.contains("<a>js</a>"))
        #expect(html.contains("<a href=\"https://example.com/x\">web</a>"))
        // Ink puts the alt text in unescaped: its quote ends the attribute, and what follows is dropped.
        #expect(html.contains("<img src=\"/raw/docs/img/p.png\" alt=\"alt\">"))
        #expect(html.contains("<img alt=\"far\">"), "an image from elsewhere loses its source")
        #expect(Self.onlyAllowedTags(html))
        // Raw HTML, however it is written, is shown as text.
        for hostile in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a <b onclick=\"x()\">b</b> c",
                        "[q](x\"><img src=1 onerror=alert(2)>)", "<iframe src=//evil></iframe>", "<meta http-equiv=refresh content=0;url=//e>",
                        "<a href=\"javascript:alert(1)\">x</a>", "<<script>script>", "<\u{301}script>", "<p style=\"x\" onmouseover=y>p</p>",
                        "```\n</code></pre><script>x</script>\n```", "<svg><script>alert(1)</script></svg>", "<table><tr><td>open"] {
            let out = Markdown.html(hostile, resolver: Self.resolver)
            #expect(Self.onlyAllowedTags(out), "\(hostile) → \(out)")
            #expect(!out.contains("<script") && !out.contains("<img src=x") && !out.contains("<iframe") && !out.contains("<meta"),
                    "\(hostile) → \(out)")
        }
    }

    @Test func markdownTargets() {
        #expect(Markdown.target("a.csv", in: "docs") == .key("docs/a.csv"))
        #expect(Markdown.target("./x/../b%20c.txt#top", in: "docs") == .key("docs/b c.txt"))
        #expect(Markdown.target("/root.txt", in: "docs") == .key("root.txt"))
        #expect(Markdown.target("../../up", in: "docs") == nil)
        #expect(Markdown.target("JavaScript:alert(1)", in: "") == nil && Markdown.target("data:text/html,x", in: "") == nil)
        #expect(Markdown.target("file:///etc/passwd", in: "") == nil)
        #expect(Markdown.target("#section", in: "") == .anchor("#section"))
        #expect(Markdown.target("//cdn.example/x", in: "") == .external("https://cdn.example/x"))
        #expect(Markdown.target("mailto:a@b.c", in: "") == .external("mailto:a@b.c"))
    }

    @Test func byteRanges() {
        #expect(Browser.byteRange("bytes=0-9", size: 100) == .part(0..<10))
        #expect(Browser.byteRange("bytes=90-", size: 100) == .part(90..<100))
        #expect(Browser.byteRange("bytes=-5", size: 100) == .part(95..<100))
        #expect(Browser.byteRange("bytes=50-1000", size: 100) == .part(50..<100))
        #expect(Browser.byteRange("bytes=100-", size: 100) == .unsatisfiable)
        #expect(Browser.byteRange("bytes=-0", size: 100) == .unsatisfiable)
        #expect(Browser.byteRange("bytes=0-1,5-6", size: 100) == .whole)
        #expect(Browser.byteRange("bytes=9-1", size: 100) == .whole && Browser.byteRange("items=0-1", size: 100) == .whole)
        #expect(Browser.byteRange("bytes=x-1", size: 100) == .whole)
        #expect(Browser.disposition("attachment", "a \"b\"/é.txt") == "attachment; filename=\"a _b_/_.txt\"; filename*=UTF-8''a%20%22b%22%2F%C3%A9.txt")
    }

    @Test func previews() throws {
        #expect(Preview.kind(of: "a/b.PNG") == .image(mime: "image/png") && Preview.kind(of: "x.tsv") == .table(delimiter: "\t"))
        #expect(Preview.kind(of: "page.html") == .text && Preview.kind(of: ".md") == .text && Preview.kind(of: "README.md") == .markdown)
        let cut = Array("héllo wörld é".utf8)
        let text = Preview.text(Array(cut.dropLast()), cut: true)
        #expect(!text.binary && text.text == "héllo wörld ")
        #expect(Preview.text([0x61, 0x00, 0x62], cut: false).binary && Preview.text([0xFF, 0xFE], cut: false).binary)
        let table = try #require(Preview.table("a,b\n1,\"x,<y>\"\n2,3\npartial,ro", delimiter: ",", cut: true))
        #expect(table.rows == 2 && table.html.contains("<th>a</th>") && table.html.contains("<td>x,&lt;y&gt;</td>"))
        #expect(!table.html.contains("partial"))
        let many = (0..<500).map { "\($0),x" }.joined(separator: "\n")
        #expect(try #require(Preview.table(many, delimiter: ",", cut: false)).rows == Preview.tableRows)
    }

    @Test func jsonViews() throws {
        let value = try JSONParser.parse(#"{"a": [1, 2.5, {"b": null}], "c": "<d>", "e": {}}"#)
        #expect(JSONViews.pretty(value) == escapeHTML("{\n  \"a\": [\n    1,\n    2.5,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": \"<d>\",\n  \"e\": {}\n}"))
        let tree = JSONViews.tree(value)
        #expect(tree.contains("<span class=\"key\">c</span> <code class=\"value string\">&quot;&lt;d&gt;&quot;</code>"))
        let old = try JSONParser.parse(#"{"a": 1, "b": {"c": [1], "d": 2}, "gone": true}"#)
        let new = try JSONParser.parse(#"{"a": 1.0, "b": {"c": [1, 2], "d": 2}, "new": "x"}"#)
        #expect(JSONViews.changes(old, new, path: "user_meta") == [
            JSONViews.Change(path: "user_meta.b.c", kind: .changed, old: "[1]", new: "[1, 2]"),
            JSONViews.Change(path: "user_meta.gone", kind: .removed, old: "true", new: nil),
            JSONViews.Change(path: "user_meta.new", kind: .added, old: nil, new: "\"x\""),
        ])
        #expect(JSONViews.changes(nil, nil).isEmpty && JSONViews.changes(.null, .null).isEmpty)
    }

    @Test func slugsAreUniqueAndSafe() {
        let registries = ["/data/reg", "/other/reg", "/x/<b>", "/x/..."].map {
            Registry(storage: LocalStorage(root: $0))
        }
        let slugs = Browser.slugs(registries).map(\.slug)
        #expect(slugs == ["reg", "reg-2", "b-", "registry"])
        #expect(Set(slugs).count == slugs.count && slugs.allSatisfy { Route(target: "/" + $0 + "/") == .registry($0) })
        #expect(Format.size(0) == "0 B" && Format.size(1536) == "1.5 KiB" && Format.size(10 << 20) == "10 MiB")
        #expect(Format.count(1234567) == "1,234,567" && Format.count(12) == "12")
    }
}
