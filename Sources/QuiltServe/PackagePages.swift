// The package list, a package at a revision (metadata, README, its root directory), a directory, and the revision
// list. Each is opened before its status is chosen (a package that is not there is a 404), then written as it is
// worked out.
import Foundation
import HTTPTypes
import QuiltSupport
import QuiltFormat
import QuiltRegistry

extension Browser {
    /// Children listed per page of a directory.
    static let pageSize = 1000
    /// The most of a README read to render it.
    static let readmeLimit = 1 << 20

    // MARK: The package list

    func homePage(only slug: String?) -> Reply {
        let shown = registries.filter { slug == nil || $0.slug == slug }
        var crumbs: [Crumb] = []
        if let slug { crumbs.append(Crumb(text: slug, href: nil)) }
        return .page(status: .ok, title: slug ?? "Packages", crumbs: crumbs) { page in
            try page.html("<h1>Packages</h1>\n")
            for served in shown {
                try page.render("registry-head", ["slug": served.slug, "url": served.registry.url, "href": Link.registry(served.slug)])
                try page.flush()
                do {
                    let packages = try served.registry.latestRevisions()
                    for package in packages { try page.render("registry-row", self.row(package, in: served)) ; try page.flush() }
                    try page.render("registry-foot", packages.isEmpty ? ["empty": true] : [:])
                } catch let cancelled as ChunkQueue.Cancelled {
                    throw cancelled
                } catch {
                    try page.render("registry-foot", ["failure": Browser.classify(error).1])
                }
            }
        }
    }

    /// One package's row: its latest revision's message, and its entries and size from the revision's index
    /// (built now the first time, which the page waits for row by row).
    func row(_ package: LatestRevision, in served: ServedRegistry) -> [String: Any] {
        var row: [String: Any] = ["name": package.name, "href": Link.package(served.slug, package.name)]
        guard let topHash = package.topHash else {
            row["message"] = "(no readable revision)"
            return row
        }
        row["hash"] = topHash
        row["short"] = Format.short(topHash)
        row["revisionHref"] = Link.revision(Route.Place(slug: served.slug, name: package.name, revision: topHash))
        if let date = Format.date(package.timestamp) {
            row["date"] = date
            row["iso"] = Format.isoDate(package.timestamp) ?? ""
        }
        do {
            let index = try indexes.index(served, topHash: topHash)
            row["message"] = index.message ?? ""
            row["files"] = Format.count(index.fileCount)
            row["size"] = Format.size(index.totalSize)
            row["bytes"] = String(index.totalSize)
        } catch {
            row["message"] = "cannot read this revision: " + Browser.describe(error)
        }
        return row
    }

    // MARK: A package at a revision

    func crumbs(_ opened: OpenedRevision, path: String? = nil, last: Bool = true) -> [Crumb] {
        var crumbs = [Crumb(text: opened.served.slug, href: Link.registry(opened.served.slug)),
                      Crumb(text: opened.name, href: Link.package(opened.served.slug, opened.name))]
        let revisionText = opened.asked == nil ? "latest" : "@" + Format.short(opened.topHash)
        crumbs.append(Crumb(text: revisionText, href: Link.revision(opened.place)))
        if let path, !path.isEmpty {
            let parts = path.split(separator: "/").map(String.init)
            for i in parts.indices {
                let prefix = parts[0...i].joined(separator: "/")
                crumbs.append(Crumb(text: parts[i], href: i == parts.count - 1 && last ? nil : Link.tree(opened.place, prefix)))
            }
        } else if last {
            crumbs[crumbs.count - 1].href = nil
        }
        return crumbs
    }

    func packagePage(_ place: Route.Place) async throws -> Reply {
        let opened = try await blocking { try self.open(place) }
        return .page(status: .ok, title: opened.name, crumbs: crumbs(opened)) { page in
            let index = opened.index
            let versions = (try? Registry.versions(of: opened.served.registry.listPointers(opened.name).pointers)) ?? []
            var context: [String: Any] = [
                "name": opened.name, "topHash": opened.topHash, "short": Format.short(opened.topHash),
                "files": Format.count(index.fileCount), "size": Format.size(index.totalSize), "bytes": String(index.totalSize),
                "uri": opened.uri.text, "revisionsHref": Link.revisions(opened.served.slug, opened.name),
                "revisions": versions.count == 1 ? "1 revision" : "\(Format.count(versions.count)) revisions",
            ]
            if opened.isLatest { context["isLatest"] = true }
            if let message = index.message, !message.isEmpty { context["message"] = message }
            if let at = versions.firstIndex(where: { $0.topHash == opened.topHash }) {
                if let date = Format.date(versions[at].timestamp) {
                    context["date"] = date
                    context["iso"] = Format.isoDate(versions[at].timestamp) ?? ""
                }
                if let previous = versions[(at + 1)...].first(where: { $0.topHash != opened.topHash }) {
                    context["previousHref"] = Link.compare(opened.served.slug, opened.name, from: previous.topHash, to: opened.topHash)
                }
            }
            if let meta = index.userMeta, meta != .null { context["meta"] = JSONViews.tree(meta) }
            if let workflow = index.workflow, workflow != .null { context["workflow"] = JSONViews.tree(workflow) }
            try page.render("package", context)
            try page.flush()
            if let readme = ["README.md", "readme.md", "Readme.md"].lazy.compactMap({ index.child(of: RevisionIndex.rootID, named: $0) })
                .first(where: { !$0.isDirectory }) {
                try self.renderReadme(readme, of: opened, page: page)
                try page.flush()
            }
            try self.renderListing(opened, directory: index.root, offset: 0, page: page, heading: "Files")
        }
    }

    /// A README rendered from its verified bytes (at most `readmeLimit` of them).
    func renderReadme(_ node: RevisionIndex.Node, of opened: OpenedRevision, page: Page) throws {
        var context: [String: Any] = ["name": node.name]
        do {
            let text = try readText(opened, node, limit: Self.readmeLimit)
            context["html"] = markdown(text.text, of: opened, directory: "") + (text.cut ? "<p class=\"note\">Shown up to 1 MiB.</p>" : "")
        } catch let cancelled as ChunkQueue.Cancelled {
            throw cancelled
        } catch {
            context["failure"] = Browser.classify(error).1
        }
        try page.render("readme", context)
    }

    /// Markdown from the file system of `opened`, its relative links and images made the package's own pages.
    func markdown(_ text: String, of opened: OpenedRevision, directory: String) -> String {
        let place = opened.place, index = opened.index
        return Markdown.html(text, resolver: Markdown.Resolver(
            link: { url in
                switch Markdown.target(url, in: directory) {
                case .anchor(let anchor)?: return anchor
                case .external(let url)?: return url
                case .key(let key)?:
                    guard let node = index.lookup(key) else { return nil }
                    return node.isDirectory ? Link.tree(place, key) : Link.file(place, key)
                case nil: return nil
                }
            },
            image: { url in
                guard case .key(let key)? = Markdown.target(url, in: directory), let node = index.lookup(key), !node.isDirectory,
                      case .image = Preview.kind(of: key) else { return nil }
                return Link.raw(place, key)
            }))
    }

    /// The first `limit` bytes of a file, verified, as text (a multi-byte character cut at the end is dropped).
    func readText(_ opened: OpenedRevision, _ node: RevisionIndex.Node, limit: Int) throws -> (text: String, cut: Bool, binary: Bool) {
        let entry = try opened.index.entry(node.id)
        let handle = try reader.open(entry)
        let count = min(entry.size, limit)
        let bytes = try handle.bytes(0..<count)
        return Preview.text(bytes, cut: count < entry.size)
    }

    // MARK: A directory

    func directoryPage(_ place: Route.Place, path: String, query: String) async throws -> Reply {
        let opened = try await blocking { try self.open(place) }
        let node = try node(opened, path)
        let key = opened.index.path(of: node.id)
        guard node.isDirectory else {
            return .bytes(status: .found, headers: [.location: Link.file(opened.place, key)], body: [])
        }
        if key.isEmpty {
            return .bytes(status: .found, headers: [.location: Link.revision(opened.place)], body: [])
        }
        let offset = max(0, Int(Route.parameters(query)["from"] ?? "") ?? 0)
        return .page(status: .ok, title: key + "/ · " + opened.name, crumbs: crumbs(opened, path: key)) { page in
            var uri = opened.uri
            uri.path = key + "/"
            var context: [String: Any] = ["title": key + "/", "files": Format.count(node.files), "size": Format.size(node.size),
                                          "bytes": String(node.size), "uri": uri.text]
            if let meta = opened.index.directoryMeta(node.id), meta != .null, meta != .object(JSONObject()) {
                context["meta"] = JSONViews.tree(meta)
            }
            try page.render("directory", context)
            try self.renderListing(opened, directory: node, offset: offset, page: page, heading: "Contents")
        }
    }

    /// A directory's children from `offset`, a page of them, with links to the pages before and after.
    func renderListing(_ opened: OpenedRevision, directory: RevisionIndex.Node, offset: Int, page: Page, heading: String) throws {
        let index = opened.index
        let base = index.path(of: directory.id)
        var head: [String: Any] = ["heading": heading]
        if directory.id != RevisionIndex.rootID {
            let parent = index.path(of: directory.parent)
            head["parentHref"] = Link.tree(opened.place, parent)
        }
        try page.render("listing-head", head)
        let children = index.children(of: directory.id, from: offset, limit: Self.pageSize)
        for child in children {
            let key = base.isEmpty ? child.name : base + "/" + child.name
            try page.render("listing-row", [
                "kind": child.isDirectory ? "directory" : "file",
                "name": child.isDirectory ? child.name + "/" : child.name,
                "href": child.isDirectory ? Link.tree(opened.place, key) : Link.file(opened.place, key),
                "size": Format.size(child.size), "bytes": String(child.size),
                "files": child.isDirectory ? Format.count(child.files) : "",
            ])
        }
        var foot: [String: Any] = [:]
        if directory.childCount > Self.pageSize || offset > 0 {
            let here = directory.id == RevisionIndex.rootID ? Link.revision(opened.place) : Link.tree(opened.place, base)
            var pages: [String: Any] = ["first": Format.count(min(offset + 1, directory.childCount)),
                                        "last": Format.count(offset + children.count), "total": Format.count(directory.childCount)]
            if offset > 0 { pages["previousHref"] = here + "?from=\(max(0, offset - Self.pageSize))" }
            if offset + children.count < directory.childCount { pages["nextHref"] = here + "?from=\(offset + children.count)" }
            foot["pages"] = pages
        }
        try page.render("listing-foot", foot)
    }

    // MARK: The revision list

    func revisionsPage(slug: String, name: String) async throws -> Reply {
        let served = try served(slug)
        let listing = try await blocking { try served.registry.listPointers(name) }
        guard !listing.pointers.isEmpty else { throw ServeError.notFound("no package \(quoted(name))") }
        let crumbs = [Crumb(text: slug, href: Link.registry(slug)), Crumb(text: name, href: Link.package(slug, name)),
                      Crumb(text: "revisions", href: nil)]
        return .page(status: .ok, title: "Revisions · " + name, crumbs: crumbs) { page in
            let latest = listing.pointers.first { $0.pointer == "latest" }?.topHash
            let versions = Registry.versions(of: listing.pointers)
            let headers = served.registry.manifestHeaders(versions.map(\.topHash))
            var rows: [[String: Any]] = []
            var options: [[String: Any]] = []
            for (i, version) in versions.enumerated() {
                let message = headers[version.topHash]?["message"]?.stringValue ?? ""
                var row: [String: Any] = [
                    "date": Format.date(version.timestamp) ?? version.timestamp, "iso": Format.isoDate(version.timestamp) ?? "",
                    "hash": version.topHash, "short": Format.short(version.topHash), "message": message,
                    "href": Link.revision(Route.Place(slug: slug, name: name, revision: version.topHash)),
                ]
                if version.topHash == latest { row["isLatest"] = true }
                if let previous = versions[(i + 1)...].first(where: { $0.topHash != version.topHash }) {
                    row["previousHref"] = Link.compare(slug, name, from: previous.topHash, to: version.topHash)
                }
                rows.append(row)
                var option: [String: Any] = [
                    "hash": version.topHash,
                    "label": (Format.date(version.timestamp) ?? version.timestamp) + " " + Format.short(version.topHash)
                        + (message.isEmpty ? "" : " " + String(message.prefix(40))),
                ]
                if i == min(1, versions.count - 1) { option["from"] = true }
                if i == 0 { option["to"] = true }
                options.append(option)
            }
            var context: [String: Any] = ["name": name, "rows": rows, "options": options, "compareAction": Link.package(slug, name) + "compare"]
            if !listing.corrupt.isEmpty {
                context["failure"] = "\(listing.corrupt.count) pointer(s) hold no top hash and are not shown: " + listing.corrupt.joined(separator: ", ")
            }
            try page.render("revisions", context)
        }
    }
}
