// A registry's workflows config: read (a missing file means no workflows), parsed as PyYAML reads it, checked
// against quilt3's config schema and version rule. Never cached: quilt3 reads it again for every build and push.
import QuiltSupport
import QuiltFormat
import QuiltJSONSchema
import QuiltStorage

struct WorkflowConfig: Sendable {
    static let key = ".quilt/workflows/config.yml"
    /// The highest config version quilt3 8.0.0 supports.
    static let supportedVersion = (1, 1, 0)

    /// The config's URL as quilt3 stamps it: the real path as a file:// URL, or s3://… with the version read.
    let url: String
    let document: JSONObject

    var workflows: JSONObject { document["workflows"]?.objectValue ?? JSONObject() }
    var workflowIds: [String] { workflows.keys }
    var defaultWorkflow: String? { document["default_workflow"]?.stringValue }
    var isWorkflowRequired: Bool { document["is_workflow_required"]?.isTruthy ?? true }
    var schemas: JSONObject { document["schemas"]?.objectValue ?? JSONObject() }

    /// The config of `registry`, or nil when it has none.
    static func load(from registry: Registry, at location: RegistryLocation) throws -> WorkflowConfig? {
        let bytes: [UInt8], info: ObjectInfo
        do {
            (bytes, info) = try registry.storage.getWithInfo(key)
        } catch StorageError.notFound {
            return nil
        } catch let error as FileSystemError {
            // Only a local registry fails with a file-system error. Reading this file is a build's first touch of
            // the registry, so a directory that may not be entered fails here; naming the workflows config would
            // send the user looking for a configuration problem when the registry itself is out of reach.
            throw RegistryError.unreadableRegistry(registry.url, reason: error.reason)
        } catch let error as StorageError {
            // Only this object's trouble is "unreadable"; a missing bucket, or a denial (which is also how S3
            // answers for a missing key without s3:ListBucket), says so itself: most registries have no workflows
            // config, and an error that led with it would send the user looking for one.
            switch error {
            case .noSuchBucket, .accessDenied: throw error
            default: break
            }
            throw WorkflowError.unreadable(url: registry.url + "/" + key, reason: error.message, hint: error.hint)
        }
        let url: String
        switch location {
        case .local(let path):
            url = PercentEncoding.fileURL(path: ((try? FileSystem.realPath(path)) ?? path) + "/" + key)
        case .s3(let bucket, let prefix):
            url = PhysicalKey.s3(bucket: bucket, key: prefix.isEmpty ? key : prefix + "/" + key, versionId: info.versionId).url
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw WorkflowError.brokenConfig(url: url, reason: "not UTF-8")
        }
        let value: JSONValue
        do { value = try YAMLDocument.load(text) } catch {
            throw WorkflowError.brokenConfig(url: url, reason: "not YAML: \(error.reason)")
        }
        if let failure = configSchema.validate(value) {
            throw WorkflowError.brokenConfig(url: url, reason: failure.path == "$" ? failure.message : "\(failure.path): \(failure.message)")
        }
        let config = WorkflowConfig(url: url, document: value.objectValue!)
        try config.checkVersion()
        return config
    }

    /// `version` (or `version.base`) read as quilt3 does: missing parts are 0; above 1.1.0 is refused.
    private func checkVersion() throws(WorkflowError) {
        let text = document["version"]?.stringValue ?? document["version"]?.objectValue?["base"]?.stringValue ?? ""
        var parts = text.split(separator: ".").compactMap { Int($0) }
        while parts.count < 3 { parts.append(0) }
        if (parts[0], parts[1], parts[2]) > Self.supportedVersion {
            throw .brokenConfig(url: url, reason: "version '\(parts[0]).\(parts[1]).\(parts[2])' is not supported (at most 1.1)")
        }
    }

    /// The header stamp: id, config URL, and the schemas loaded (by id, in load order) when there are any.
    func stamp(id: String?, schemas: [(id: String, url: String)]) -> JSONValue {
        var stamp = JSONObject([("id", id.map { .string($0) } ?? .null), ("config", .string(url))])
        if !schemas.isEmpty {
            stamp["schemas"] = .object(JSONObject(schemas.map { ($0.id, .string($0.url)) }))
        }
        return .object(stamp)
    }

    private static let configSchema: JSONSchema = {
        do {
            return try JSONSchema(JSONParser.parse(WorkflowConfigSchema.text))
        } catch {
            fatalError("quilt3's bundled workflows config schema does not compile: \(error)")
        }
    }()
}
