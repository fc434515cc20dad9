// The one storage interface every registry backend implements (local directory, S3), in the spirit of restic's
// backend: small, with written contracts, and one conformance suite run against every implementation.
import QuiltSupport

/// What a conditional write requires of the object already at the key.
public enum WriteCondition: Sendable, Equatable {
    /// Write unconditionally.
    case always
    /// Write only if no object exists at the key (`If-None-Match: *`).
    case absent
    /// Write only if the object's current ETag is this one (`If-Match`).
    case matches(etag: String)
}

/// What `head` tells about a stored object.
public struct ObjectInfo: Sendable, Equatable {
    public var size: Int
    /// An opaque tag that changes whenever the content changes; what `WriteCondition.matches` compares.
    public var etag: String
    /// The S3 version id, when the store is versioned.
    public var versionId: String?

    public init(size: Int, etag: String, versionId: String? = nil) {
        self.size = size
        self.etag = etag
        self.versionId = versionId
    }
}

/// One stored version of an object, as `Storage.listVersions` lists it. A store without versions has one per
/// object (its `versionId` nil).
public struct StoredVersion: Sendable, Equatable {
    public var key: String
    /// nil for the one version of a store without versions. S3 names the version of an object written while the
    /// bucket was not versioned `null`, and so does this: `delete(key, versionId: "null")` removes it for good,
    /// where a plain delete in a versioned bucket would only hide it behind a delete marker.
    public var versionId: String?
    public var size: Int
    /// Seconds since the epoch.
    public var lastModified: Double
    /// The version a plain read gets.
    public var isLatest: Bool
    /// A delete marker: no bytes, only the record that a plain delete happened.
    public var isDeleteMarker: Bool

    public init(key: String, versionId: String?, size: Int, lastModified: Double, isLatest: Bool, isDeleteMarker: Bool = false) {
        self.key = key
        self.versionId = versionId
        self.size = size
        self.lastModified = lastModified
        self.isLatest = isLatest
        self.isDeleteMarker = isDeleteMarker
    }
}

/// An upload in parts that was started and neither completed nor aborted.
public struct IncompleteUpload: Sendable, Equatable {
    public var key: String
    public var uploadId: String
    /// Seconds since the epoch.
    public var initiated: Double

    public init(key: String, uploadId: String, initiated: Double) {
        self.key = key
        self.uploadId = uploadId
        self.initiated = initiated
    }
}

/// Where a store keeps its objects, for callers that put data beside the registry's own keys by other means (push
/// copies package data into the bucket, unbundle writes a local registry's object files).
public enum StorageLocation: Sendable, Equatable {
    /// A directory of the local file system (an absolute path).
    case directory(String)
    /// A bucket of an object store, and the key prefix the store's keys are below ("" for the bucket's root).
    case bucket(String, prefix: String)
}

/// A flat key space of objects: a directory on disk or an S3 bucket (with an optional prefix).
///
/// Keys are `/`-separated paths relative to the store's root, such as `.quilt/packages/<hash>`; they never start
/// with `/`. Contracts every implementation keeps:
/// - `get` of a missing key throws `StorageError.notFound`.
/// - `put` is atomic: a concurrent reader sees the old object or the new one, never a part.
/// - A conditional `put` whose condition does not hold throws `StorageError.preconditionFailed` and changes nothing.
/// - `list` returns every key below a prefix (recursively), sorted by UTF-8 bytes.
/// - `delete` of a missing key succeeds.
/// - `stage` returns an object that appears at its key atomically when committed, and never if it is not.
/// - `reader` of a missing key throws `StorageError.notFound`; it reads exactly the bytes `get` would return.
/// - `listVersions` lists every version below a prefix, keys sorted by UTF-8 bytes, the versions of one key
///   together (in no promised order: S3 lists them newest first, moto its delete markers last), a page at a time
///   (so a listing of millions is never held); what `list` lists is among them, as a latest version that is not a
///   delete marker.
/// - `delete(key, versionId:)` of a listed version removes it for good (a missing one succeeds); a plain `delete`
///   may only hide it.
/// - `listIncompleteUploads` is empty on a store that writes objects whole (a directory); `abortIncompleteUpload`
///   of an upload that is gone succeeds.
public protocol Storage: Sendable {
    /// The root of the store as a URL (`file:///…` or `s3://bucket/prefix`), for messages.
    var rootURL: String { get }
    /// What the backend is good at, for callers that adapt to it (instead of asking which backend it is).
    var capabilities: StorageCapabilities { get }
    /// Where the objects are.
    var location: StorageLocation { get }
    /// The whole object.
    func get(_ key: String) throws -> [UInt8]
    /// Stores `bytes` at `key`, if `condition` holds; returns the new object's ETag.
    @discardableResult
    func put(_ key: String, bytes: [UInt8], condition: WriteCondition) throws -> ObjectInfo
    /// Stores the contents of a local file at `key`, streaming it.
    @discardableResult
    func put(_ key: String, contentsOfFile path: String, condition: WriteCondition) throws -> ObjectInfo
    /// At most the first `count` bytes of the object (all of it when shorter): what reading a manifest's header
    /// line needs, without fetching a manifest of a million entries.
    func getPrefix(_ key: String, count: Int) throws -> [UInt8]
    /// The object read from its start in pieces as the caller asks for them, so an object bigger than memory
    /// (a manifest of ten million entries) is never held whole.
    func reader(_ key: String) throws -> any ObjectReader
    /// The whole object and its ETag, read together (what a compare-and-swap starts from).
    func getWithInfo(_ key: String) throws -> (bytes: [UInt8], info: ObjectInfo)
    /// Size and ETag of the object at `key`, or nil if there is none.
    func head(_ key: String) throws -> ObjectInfo?
    /// Every key that starts with `prefix`, sorted.
    func list(prefix: String) throws -> [String]
    /// At most the first `limit` of those keys, without listing the rest (whether the store may be listed at all).
    func list(prefix: String, limit: Int) throws -> [String]
    /// Removes the object at `key`; a missing key is not an error.
    func delete(_ key: String) throws
    /// Removes the version `versionId` of the object at `key` (one a write returned or `listVersions` listed): a
    /// versioned store then keeps nothing of it, not even a delete marker. nil, or a store without versions:
    /// `delete(key)`.
    func delete(_ key: String, versionId: String?) throws
    /// A new object written piece by piece, stored under a key given only when it is committed (a manifest is
    /// named by the hash of its own bytes).
    func stage() throws -> any StagedObject
    /// Every version of every object below `prefix` (delete markers included), handed to `page` a page at a time,
    /// in key order, each key's versions together.
    func listVersions(prefix: String, page: ([StoredVersion]) throws -> Void) throws
    /// Uploads in parts started below `prefix` and never completed nor aborted.
    func listIncompleteUploads(prefix: String) throws -> [IncompleteUpload]
    /// Aborts one such upload, freeing its parts.
    func abortIncompleteUpload(_ upload: IncompleteUpload) throws
}

/// What a backend does well or at all. Stated by each backend; callers adapt to it. Only what some caller reads is
/// here: a new capability comes with its reader and a check in the conformance suite.
public struct StorageCapabilities: Sendable, Equatable {
    /// Small independent reads worth running at once: several where each waits on the network, one where a
    /// thread per read would cost more than the read.
    public var readConcurrency: Int

    public init(readConcurrency: Int) {
        self.readConcurrency = readConcurrency
    }
}

/// An object being written whose key is known only at the end.
public protocol StagedObject: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Stores what was written at `key` (unconditionally); the staged object cannot be used afterwards.
    @discardableResult
    func commit(as key: String) throws -> ObjectInfo
}

/// An object being read from its start, one piece at a time.
public protocol ObjectReader: AnyObject {
    /// Reads the next bytes into `buffer`; returns how many (0 only at the end).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Bytes already in memory, read piece by piece: the reader of backends with no better way.
public final class InMemoryObjectReader: ObjectReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// Staging in a local temporary file, then one streaming `put`: for backends with no cheaper way.
public final class TemporaryFileStagedObject: StagedObject {
    private let storage: any Storage
    private let file: AtomicFileWriter

    public init(storage: any Storage, temporaryDirectory: String) throws {
        self.storage = storage
        file = try AtomicFileWriter(destination: temporaryDirectory + "/quilt-staged")
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try file.write(bytes) }

    public func commit(as key: String) throws -> ObjectInfo {
        try file.finish()
        return try storage.put(key, contentsOfFile: file.pathBeforeCommit, condition: .always)
    }
}

extension Storage {
    @discardableResult
    public func put(_ key: String, bytes: [UInt8]) throws -> ObjectInfo {
        try put(key, bytes: bytes, condition: .always)
    }
    /// Default: the whole object, handed out in pieces.
    public func reader(_ key: String) throws -> any ObjectReader {
        InMemoryObjectReader(try get(key))
    }

    /// Default: the whole object, cut.
    public func getPrefix(_ key: String, count: Int) throws -> [UInt8] {
        Array(try get(key).prefix(count))
    }

    /// Default: `head` then `get`; a backend whose GET returns the ETag should answer in one request.
    public func getWithInfo(_ key: String) throws -> (bytes: [UInt8], info: ObjectInfo) {
        guard let info = try head(key) else { throw StorageError.notFound(location: rootURL + "/" + key) }
        return (try get(key), info)
    }

    /// Default: the whole listing, cut.
    public func list(prefix: String, limit: Int) throws -> [String] {
        Array(try list(prefix: prefix).prefix(limit))
    }

    /// Default: versions are not kept, so the object is the version.
    public func delete(_ key: String, versionId: String?) throws {
        try delete(key)
    }

    /// The object, or nil if there is none.
    public func getIfPresent(_ key: String) throws -> [UInt8]? {
        do { return try get(key) } catch StorageError.notFound { return nil }
    }
}
