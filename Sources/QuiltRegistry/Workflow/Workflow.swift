// quilt3's workflows: the registry's `.quilt/workflows/config.yml` decides which metadata a package must have,
// which names and files are allowed and whether a message is required, and every build and push is stamped with
// the workflow that checked it. Resolution, loading and messages follow quilt3 8.0.0 (workflows/__init__.py):
// the config is read again on every call, schemas are fetched from file:// or s3:// URLs, `$ref` is refused,
// and the checks run in quilt3's order: message, name, metadata, entries.
import QuiltSupport
import QuiltFormat
import QuiltJSONSchema
import QuiltStorage
import QuiltAWS

/// Which workflow a build or push asks for.
public enum WorkflowChoice: Sendable, Equatable {
    /// None asked for: the config's `default_workflow`.
    case unspecified
    /// Explicitly no workflow (allowed when the config does not require one).
    case none
    case id(String)
}

/// One workflow, resolved and loaded: its checks and the stamp a checked package carries.
public struct Workflow: Sendable {
    /// The workflow id; nil for "no workflow" in a registry that allows it.
    public let id: String?
    /// The header's `workflow` value: `{"id", "config"[, "schemas"]}`.
    public let stamp: JSONValue
    let handlePattern: PythonRegex?
    let isMessageRequired: Bool
    let metadataSchema: JSONSchema?
    let entriesSchema: JSONSchema?

    /// Checks a package in quilt3's order (message, name, metadata, entries) and throws the first failure: given
    /// the package metadata and, only if the workflow has an entries schema, the entries as that schema sees them
    /// (`RevisionBuild.entriesForValidation`).
    func check(name: String, userMeta: JSONValue?, entries: () -> JSONValue, message: String?) throws(WorkflowError) {
        if isMessageRequired && (message ?? "").isEmpty {
            throw .failed(workflow: id, rule: .message, path: nil, reason: "a message is required")
        }
        if let handlePattern, !handlePattern.search(name) {
            throw .failed(workflow: id, rule: .name, path: nil,
                          reason: "\(quoted(name)) does not match handle_pattern \(quoted(handlePattern.pattern))")
        }
        if let metadataSchema {
            // quilt3 validates `Package.meta`: an absent user_meta reads as {}, an explicit null as None.
            let meta = userMeta ?? .object(JSONObject())
            if let failure = metadataSchema.validate(meta) {
                throw .failed(workflow: id, rule: .metadata, path: failure.path, reason: failure.message)
            }
        }
        if let entriesSchema {
            let entries = entries()
            if let failure = entriesSchema.validate(entries) {
                throw .failed(workflow: id, rule: .entries, path: failure.path, reason: failure.message)
            }
        }
    }

    /// Stamps a checked package's header, or, with no workflow at all (no config), removes any stamp, as quilt3
    /// does on every build and push.
    static func stamp(_ workflow: Workflow?, on header: inout JSONObject) {
        guard let workflow else {
            header.removeValue(forKey: "workflow")
            return
        }
        header["workflow"] = workflow.stamp
    }
}

extension QuiltContext {
    /// The workflow `choice` resolves to in `registry`, loaded and ready to check; nil when the registry has no
    /// workflows config and none was asked for (then nothing is validated and no stamp is written).
    public func workflow(_ choice: WorkflowChoice, in registry: Registry) throws -> Workflow? {
        let location = registry.location
        guard let config = try WorkflowConfig.load(from: registry, at: location) else {
            switch choice {
            case .unspecified:
                trace?("workflow: none (\(registry.url) has no workflows config)")
                return nil
            case .none: throw WorkflowError.noConfig(workflow: nil, registry: registry.url)
            case .id(let id): throw WorkflowError.noConfig(workflow: id, registry: registry.url)
            }
        }
        var id: String?
        var fromDefault = false
        switch choice {
        case .id(let given): id = given
        case .none: id = nil
        case .unspecified:
            id = config.defaultWorkflow
            fromDefault = true
        }
        trace?("workflow: " + (id.map { quoted($0) } ?? "none") + " ("
               + (fromDefault ? "default_workflow of \(config.url)" : "--workflow") + ")")
        guard let id else {
            if config.isWorkflowRequired { throw WorkflowError.required(known: config.workflowIds) }
            return Workflow(id: nil, stamp: config.stamp(id: nil, schemas: []), handlePattern: nil, isMessageRequired: false,
                            metadataSchema: nil, entriesSchema: nil)
        }
        guard let definition = config.workflows[id]?.objectValue else {
            throw WorkflowError.unknownWorkflow(id, known: config.workflowIds, fromDefault: fromDefault)
        }
        var pattern: PythonRegex?
        if let text = definition["handle_pattern"]?.stringValue, !text.isEmpty {
            do { pattern = try PythonRegex(text) } catch {
                throw WorkflowError.brokenConfig(url: config.url, reason: "workflow \(quoted(id)): handle_pattern \(quoted(text)) is not a regular expression")
            }
        }
        var loader = SchemaLoader(config: config, registryIsLocal: location.isLocal, context: self)
        let metadata = try definition["metadata_schema"]?.stringValue.map { try loader.load($0) }
        let entries = try definition["entries_schema"]?.stringValue.map { try loader.load($0) }
        return Workflow(id: id, stamp: config.stamp(id: id, schemas: loader.loadedURLs), handlePattern: pattern,
                        isMessageRequired: definition["is_message_required"]?.isTruthy ?? false,
                        metadataSchema: metadata, entriesSchema: entries)
    }
}
