// Loading a workflow's metadata and entries schemas as quilt3 does: by id from the config's `schemas`, from a
// file:// or s3:// URL (no other form, nothing relative), a local schema refused on a remote registry, `$ref`
// refused anywhere, only the draft-07 meta-schema, and each URL read once per check.
import QuiltSupport
import QuiltFormat
import QuiltJSONSchema
import QuiltStorage
import QuiltAWS

struct SchemaLoader {
    let config: WorkflowConfig
    let registryIsLocal: Bool
    let context: QuiltContext
    /// Loaded schemas by their normalised URL, with the URL they were read from (S3's version included).
    private var byURL: [String: (schema: JSONSchema, url: String)] = [:]
    private var byID: [String: JSONSchema] = [:]
    /// The ids loaded so far, in load order, with the URL each was read from: the stamp's `schemas`.
    private(set) var loadedURLs: [(id: String, url: String)] = []

    init(config: WorkflowConfig, registryIsLocal: Bool, context: QuiltContext) {
        self.config = config
        self.registryIsLocal = registryIsLocal
        self.context = context
    }

    static let draft7 = "http://json-schema.org/draft-07/schema#"

    mutating func load(_ id: String) throws -> JSONSchema {
        guard let url = config.schemas[id]?.objectValue?["url"]?.stringValue else {
            throw WorkflowError.brokenConfig(url: config.url, reason: "no schema \(quoted(id)) in schemas")
        }
        guard let key = try? PhysicalKey(url: url) else {
            throw WorkflowError.brokenConfig(url: config.url, reason: "schema \(quoted(id)): cannot parse URL \(quoted(url)) (file:///… or s3://…)")
        }
        if case .local = key, !registryIsLocal {
            throw WorkflowError.brokenConfig(url: config.url, reason: "local schema \(quoted(url)) cannot be used on a remote registry")
        }
        if let known = byID[id] { return known }
        let normalized = Self.normalized(key)
        if let known = byURL[normalized] {
            byID[id] = known.schema
            loadedURLs.append((id, known.url))
            return known.schema
        }
        let (bytes, effectiveURL) = try read(key, normalized: normalized)
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw WorkflowError.brokenConfig(url: effectiveURL, reason: "not JSON: \(error.message)")
        }
        if Self.containsRef(value) {
            throw WorkflowError.brokenConfig(url: effectiveURL, reason: "$ref is not supported in workflow schemas")
        }
        if case .object(let object) = value, let meta = object["$schema"] {
            guard let text = meta.stringValue else { throw WorkflowError.brokenConfig(url: effectiveURL, reason: "$schema must be a string") }
            guard text == Self.draft7 else {
                throw WorkflowError.brokenConfig(url: effectiveURL, reason: "unsupported meta-schema \(quoted(text)) (only \(Self.draft7))")
            }
        }
        let schema: JSONSchema
        do { schema = try JSONSchema(value) } catch {
            throw WorkflowError.brokenConfig(url: effectiveURL, reason: "schema \(quoted(id)) is not valid: \(error.message)")
        }
        byURL[normalized] = (schema, effectiveURL)
        byID[id] = schema
        loadedURLs.append((id, effectiveURL))
        return schema
    }

    /// quilt3's `str(PhysicalKey)`: a local path made real and quoted; an S3 key as given.
    static func normalized(_ key: PhysicalKey) -> String {
        switch key {
        case .local(let path): return PercentEncoding.fileURL(path: (try? FileSystem.realPath(path)) ?? path)
        case .s3: return key.url
        }
    }

    /// The bytes and the URL to stamp (with the version S3 returned).
    private func read(_ key: PhysicalKey, normalized: String) throws -> ([UInt8], String) {
        switch key {
        case .local(let path):
            do { return (try FileSystem.readFile(FileSystem.realPath(path)), normalized) } catch {
                throw WorkflowError.unreadable(url: normalized, reason: error.message, hint: error.hint)
            }
        case .s3(let bucket, let objectKey, let versionId):
            do {
                let result = try context.s3Client().getObject(bucket: bucket, key: objectKey, versionId: versionId)
                return (result.body, PhysicalKey.s3(bucket: bucket, key: objectKey, versionId: result.versionId ?? versionId).url)
            } catch let error as StorageError {
                // Only this object's trouble is "unreadable"; a credential or network failure says so itself.
                throw WorkflowError.unreadable(url: normalized, reason: error.message, hint: error.hint)
            }
        }
    }

    /// quilt3 refuses any JSON object with a `$ref` key, at any depth (even a property named `$ref`).
    static func containsRef(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object): return object["$ref"] != nil || object.contains { containsRef($0.value) }
        case .array(let items): return items.contains(where: containsRef)
        default: return false
        }
    }
}
