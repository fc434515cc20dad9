// Two revisions compared: the entries added, modified and deleted (ManifestDiff, the one diff engine, reading both
// manifests side by side, each checked against its name) and the difference of their metadata (message, user_meta,
// workflow), field by field.
import HTTPTypes
import QuiltSupport
import QuiltFormat
import QuiltRegistry

extension Browser {
    /// Keys listed per kind of change; the rest are counted.
    static let compareLimit = 1000

    func comparePage(slug: String, name: String, from: String?, to: String?) async throws -> Reply {
        let (old, new) = try await blocking { () throws -> (OpenedRevision, OpenedRevision) in
            let new = try self.open(Route.Place(slug: slug, name: name, revision: to))
            let from = try from ?? {
                let versions = try new.served.registry.versions(name)
                guard let at = versions.firstIndex(where: { $0.topHash == new.topHash }),
                      let previous = versions[(at + 1)...].first(where: { $0.topHash != new.topHash }) else {
                    throw ServeError.notFound("\(quoted(name)) has no revision before \(Format.short(new.topHash)) to compare with")
                }
                return previous.topHash
            }()
            return (try self.open(Route.Place(slug: slug, name: name, revision: from)), new)
        }
        let crumbs = [Crumb(text: slug, href: Link.registry(slug)), Crumb(text: name, href: Link.package(slug, name)),
                      Crumb(text: "compare", href: nil)]
        return .page(status: .ok, title: "Compare · " + name, crumbs: crumbs) { page in
            let diff = try ManifestDiff(registry: old.served.registry, from: old.topHash, to: new.topHash)
            func group(_ kind: String, _ title: String, _ keys: [String], in revision: OpenedRevision) -> [String: Any]? {
                guard !keys.isEmpty else { return nil }
                var group: [String: Any] = [
                    "kind": kind, "title": "\(title) (\(Format.count(keys.count)))",
                    "keys": keys.prefix(Self.compareLimit).map { ["key": $0, "href": Link.file(revision.place, $0)] },
                ]
                if keys.count > Self.compareLimit { group["more"] = Format.count(keys.count - Self.compareLimit) }
                return group
            }
            var changes: [JSONViews.Change] = []
            for field in ["message", "user_meta", "workflow"] {
                changes += JSONViews.changes(old.index.header[field], new.index.header[field], path: field)
            }
            var context: [String: Any] = [
                "name": name, "from": old.topHash, "to": new.topHash,
                "fromShort": Format.short(old.topHash), "toShort": Format.short(new.topHash),
                "fromHref": Link.revision(old.place), "toHref": Link.revision(new.place),
                "addedCount": Format.count(diff.added.count), "modifiedCount": Format.count(diff.modified.count),
                "deletedCount": Format.count(diff.deleted.count),
                "groups": [group("added", "Added", diff.added, in: new), group("modified", "Modified", diff.modified, in: new),
                           group("deleted", "Deleted", diff.deleted, in: old)].compactMap { $0 },
                "hasMetaChanges": !changes.isEmpty,
                "metaChanges": changes.map { ["path": $0.path, "kind": $0.kind.rawValue, "old": $0.old ?? "", "new": $0.new ?? ""] },
            ]
            if let message = old.index.message, !message.isEmpty { context["fromMessage"] = message }
            if let message = new.index.message, !message.isEmpty { context["toMessage"] = message }
            try page.render("compare", context)
        }
    }
}
