// quilt fsck: every pointer names a stored manifest; every manifest parses, is in tree order and hashes to its
// name (read with the one reader); with `objects`, every entry's object is there, at its version, with its size;
// with `full`, its bytes hash to the entry's hash. Objects shared by many entries are checked once: the entries are
// spooled sorted by physical key (in bounded memory), so each key is looked up once for all that name it. The run
// keeps a checkpoint (CareCheckpoint) and never writes to the registry.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

/// What to check.
public struct CheckOptions: Sendable, Equatable {
    /// The packages to check (their pointers and the manifests these name); nil for the whole registry (every
    /// pointer and every stored manifest, reachable or not).
    public var names: [String]?
    /// Every entry's object exists at its version with its size.
    public var objects: Bool
    /// Every object's bytes hash to its entry's hash (implies `objects`).
    public var full: Bool
    /// Go on from the checkpoint an interrupted run of the same options left.
    public var resume: Bool

    public init(names: [String]? = nil, objects: Bool = false, full: Bool = false, resume: Bool = false) {
        self.names = names
        self.objects = objects || full
        self.full = full
        self.resume = resume
    }
}

/// What a run checked.
public struct CheckSummary: Sendable, Equatable {
    public var pointers = 0
    public var manifests = 0
    /// Entries whose objects were checked, and the distinct objects they name (those a resumed run took as done
    /// included).
    public var references = 0
    public var objects = 0
    public var problems = 0
    public var warnings = 0
    /// Objects hashed from their bytes, and from S3's checksums (`full`).
    public var objectsRead = 0
    public var objectsFromChecksums = 0
    /// Whether this run went on from a checkpoint; `resumeRefused` says why not when one was asked for.
    public var resumed = false
    public var resumeRefused: String?
    /// The objects and manifests the checkpoint said were done (not checked again).
    public var objectsSkipped = 0
    public var manifestsSkipped = 0

    public var ok: Bool { problems == 0 }
}

/// One run of quilt fsck over one registry.
public final class RegistryCheck {
    let registry: Registry
    let options: CheckOptions
    /// Made on first use: a registry whose entries are all local files never needs S3.
    let remote: @Sendable () throws -> S3Transfers
    let useS3Checksums: Bool
    let concurrency: Int
    let directory: String
    let lookup: ObjectLookup

    /// Objects checked between checkpoints, at most; and the longest time between them.
    static let checkpointObjects = 1000
    static let checkpointSeconds = 30.0
    /// Objects checked at once (a batch ends before a checkpoint is written).
    static let batchSize = 500

    public init(registry: Registry, options: CheckOptions, remote: @escaping @Sendable () throws -> S3Transfers,
                useS3Checksums: Bool, concurrency: Int, checkpointRoot: String) throws {
        self.registry = registry
        self.options = options
        self.remote = remote
        self.useS3Checksums = useS3Checksums
        self.concurrency = max(1, concurrency)
        directory = CareCheckpoint.directory(root: checkpointRoot, registry: registry.url)
        lookup = ObjectLookup(remote: remote, useS3Checksums: useS3Checksums)
    }

    private var state: CareCheckpoint!
    private var summary = CheckSummary()
    private var problemsFile: AppendOnlyFile!
    private var recordsFile: AppendOnlyFile!
    private var lastSave = 0.0
    private var report: (CareFinding) -> Void = { _ in }

    private var manifestsPath: String { directory + "/manifests.jsonl" }
    private var recordsPath: String { directory + "/records.jsonl" }
    private var problemsPath: String { directory + "/problems.jsonl" }

    /// Runs the check; each finding goes to `report` as it is found (a resumed run first reports again those of
    /// the run it goes on from). Returns what was checked. The checkpoint is removed when the run ends.
    public func run(report: @escaping (CareFinding) -> Void, progress: ProgressPhases? = nil) throws -> CheckSummary {
        self.report = report
        let fresh = CareCheckpoint(registry: registry.url, names: options.names, objects: options.objects,
                                   full: options.full, useS3Checksums: useS3Checksums)
        var manifests: [(topHash: String, package: String?)]
        if options.resume, let saved = CareCheckpoint.load(directory), saved.sameRun(as: fresh) {
            state = saved
            summary.resumed = true
            manifests = try loadManifests()
            try openFiles(truncate: true)
            try forEachLine(ofFile: problemsPath, upTo: state.problemsBytes) { line in
                guard let finding = (try? JSONParser.parse(line)).flatMap(CareFinding.init(json:)) else {
                    throw CareError.badCheckpoint(path: problemsPath, reason: "a finding does not read")
                }
                report(finding)
            }
            summary.pointers = state.pointersChecked
            summary.manifestsSkipped = state.manifestsDone
            summary.objectsSkipped = state.objectsDone
        } else {
            if options.resume {
                summary.resumeRefused = FileSystem.exists(directory + "/checkpoint.json")
                    ? "the checkpoint is of a run with other options" : "there is no checkpoint"
            }
            try? FileSystem.removeTree(directory)
            try FileSystem.makeDirectories(directory)
            state = fresh
            try openFiles(truncate: false)
            manifests = try checkPointers(progress: progress?("checking pointers"))
            try saveManifests(manifests)
            try save()
        }
        summary.problems = state.problems
        summary.warnings = state.warnings
        if state.phase == "manifests" {
            try checkManifests(manifests, progress: progress?("checking manifests"))
            state.phase = "objects"
            try save()
        }
        summary.manifests = manifests.count
        if options.objects {
            try checkObjects(manifests, progress: progress?("checking objects"))
        }
        summary.pointers = state.pointersChecked
        summary.objects = state.objectsDone
        summary.problems = state.problems
        summary.warnings = state.warnings
        problemsFile = nil
        recordsFile = nil
        try? FileSystem.removeTree(directory)
        return summary
    }

    // MARK: Checkpoint files

    private func openFiles(truncate: Bool) throws {
        problemsFile = try AppendOnlyFile(path: problemsPath)
        recordsFile = try AppendOnlyFile(path: recordsPath)
        if truncate {
            // What was written after the checkpoint is done again.
            guard try problemsFile.size() >= state.problemsBytes, try recordsFile.size() >= state.recordsBytes else {
                throw CareError.badCheckpoint(path: directory, reason: "its files are shorter than it says")
            }
            try problemsFile.truncate(to: state.problemsBytes)
            try recordsFile.truncate(to: state.recordsBytes)
        }
    }

    private func save() throws {
        state.problemsBytes = try problemsFile.size()
        state.recordsBytes = try recordsFile.size()
        try state.save(directory)
        lastSave = WallClock.now()
    }

    private func saveManifests(_ manifests: [(topHash: String, package: String?)]) throws {
        var bytes: [UInt8] = []
        for m in manifests {
            JSONWriter.writeCanonicalForm(.object(JSONObject([("h", .string(m.topHash)), ("p", m.package.map { .string($0) } ?? .null)])),
                                          to: &bytes)
            bytes.append(0x0A)
        }
        try FileSystem.writeAtomically(bytes, to: manifestsPath, permissions: 0o600)
    }

    private func loadManifests() throws -> [(topHash: String, package: String?)] {
        var manifests: [(topHash: String, package: String?)] = []
        let size = (try? InputFile(path: manifestsPath).size) ?? -1
        guard size >= 0 else { throw CareError.badCheckpoint(path: manifestsPath, reason: "it is missing") }
        try forEachLine(ofFile: manifestsPath, upTo: size) { line in
            guard case .object(let o)? = try? JSONParser.parse(line), let hash = o["h"]?.stringValue else {
                throw CareError.badCheckpoint(path: manifestsPath, reason: "a line does not read")
            }
            manifests.append((hash, o["p"]?.stringValue))
        }
        return manifests
    }

    private func found(_ finding: CareFinding) throws {
        var line: [UInt8] = []
        JSONWriter.writeCanonicalForm(finding.json, to: &line)
        line.append(0x0A)
        try problemsFile.append(line)
        if finding.isProblem { state.problems += 1 } else { state.warnings += 1 }
        report(finding)
    }

    // MARK: Pointers

    /// Every pointer parses and names a stored manifest. Returns the manifests to check, each with the package
    /// its findings name (the first, in key order, whose pointer names it).
    private func checkPointers(progress: ProgressHandler?) throws -> [(topHash: String, package: String?)] {
        let pointers = try registry.allPointers(names: options.names)
        let stored = try registry.topHashes(withPrefix: "")
        let storedSet = Set(stored)
        var packageOf: [String: String] = [:]
        for (i, pointer) in pointers.enumerated() {
            if let hash = pointer.topHash {
                if storedSet.contains(hash) {
                    if packageOf[hash] == nil { packageOf[hash] = pointer.package }
                } else {
                    try found(CareFinding(kind: .danglingPointer, package: pointer.package, revision: pointer.pointer, key: pointer.key,
                                          detail: "names \(hash), which is not stored"))
                }
            } else {
                try found(CareFinding(kind: .danglingPointer, package: pointer.package, revision: pointer.pointer, key: pointer.key,
                                      detail: "holds no top hash"))
            }
            progress?(Progress(filesDone: i + 1, filesTotal: pointers.count, bytesDone: 0, bytesTotal: 0))
        }
        state.pointersChecked = pointers.count
        summary.pointers = pointers.count
        let chosen = options.names == nil ? stored : stored.filter { packageOf[$0] != nil }
        return chosen.map { ($0, packageOf[$0]) }
    }

    // MARK: Manifests

    /// Reads every manifest once, in the order of the file (nothing is printed before the end but findings, so no
    /// sorted copy is made of one in tree order, and one that is not is still checked against its name). With
    /// `objects`, each entry becomes a record; a manifest found corrupt leaves none.
    private func checkManifests(_ manifests: [(topHash: String, package: String?)], progress: ProgressHandler?) throws {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var sinceSave = 0
        for index in state.manifestsDone..<manifests.count {
            let manifest = manifests[index]
            let recordsBefore = state.recordsCount
            var inCanonicalLayout = true
            var failure: String?
            do {
                try registry.readManifest(manifest.topHash, order: .stored) { stored in
                    while let entry = try stored.next() {
                        guard options.objects else { continue }
                        try appendRecord(entry, manifest: index, to: &buffer)
                        if buffer.count >= 1 << 20 {
                            try recordsFile.append(buffer)
                            buffer.removeAll(keepingCapacity: true)
                        }
                    }
                    inCanonicalLayout = stored.storedInCanonicalLayout
                }
            } catch RegistryError.corruptManifest(_, let actual) {
                failure = actual == "unread" ? "an entry has no hash" : "hashes to \(actual)"
            } catch let error as ManifestError {
                failure = error.message
            } catch RegistryError.noSuchManifest {
                // Listed, then gone (a gc in between): nothing to check.
                failure = nil
                inCanonicalLayout = true
            }
            let key = Registry.manifestKey(manifest.topHash)
            if let failure {
                // Its entries cannot be trusted to say which objects a revision needs: none is checked.
                buffer.removeAll(keepingCapacity: true)
                try recordsFile.truncate(to: state.recordsBytes)
                state.recordsCount = recordsBefore
                try found(CareFinding(kind: .corruptManifest, package: manifest.package, revision: manifest.topHash, key: key,
                                      detail: failure))
            } else {
                try recordsFile.append(buffer)
                buffer.removeAll(keepingCapacity: true)
                if !inCanonicalLayout {
                    try found(CareFinding(kind: .unsortedManifest, package: manifest.package, revision: manifest.topHash, key: key,
                                          detail: "stored out of tree order; quilt3 reads it and it hashes to its name, but "
                                              + "no known writer makes one"))
                }
            }
            state.manifestsDone = index + 1
            state.recordsBytes = try recordsFile.size()
            sinceSave += 1
            progress?(Progress(filesDone: index + 1, filesTotal: manifests.count, bytesDone: 0, bytesTotal: 0))
            if sinceSave >= Self.checkpointObjects || WallClock.now() - lastSave >= Self.checkpointSeconds {
                try save()
                sinceSave = 0
            }
        }
    }

    /// A record: the entry under a sort key made of its physical key (hex, so sorting groups and orders by the
    /// key's bytes) and a serial number (so no two are equal), the manifest and logical key in its meta.
    private func appendRecord(_ entry: ManifestEntry, manifest: Int, to buffer: inout [UInt8]) throws {
        let record = ManifestEntry(
            logicalKey: hexKey(entry.physicalKey) + "." + String(state.recordsCount, radix: 16), physicalKey: entry.physicalKey,
            size: entry.size, hash: entry.hash,
            meta: .object(JSONObject([("m", .int(manifest)), ("k", .string(entry.logicalKey))])))
        ManifestLine.appendEntry(record, to: &buffer)
        buffer.append(0x0A)
        state.recordsCount += 1
    }

    // MARK: Objects

    /// One entry that names an object.
    struct Reference: Sendable {
        var manifest: Int
        var logicalKey: String
        var size: Int
        var hash: ObjectHash?
    }

    /// An object and every entry that names it.
    struct Object: Sendable {
        var sortKey: String
        var physicalKey: String
        var references: [Reference]
    }

    /// What was found at an object's key.
    enum Found: Sendable {
        case missing(String)
        /// Its size, and (with `full`) its hash of each type the entries use.
        case present(size: Int, hashes: [String: ObjectHash])
    }

    /// The records sorted by physical key (the spool: bounded memory, sorted runs on disk past its budget), each
    /// object looked up once; a checkpoint every 1,000 objects or 30 s, after the batch it counts.
    private func checkObjects(_ manifests: [(topHash: String, package: String?)], progress: ProgressHandler?) throws {
        let spool = registry.makeSpool()
        try forEachLine(ofFile: recordsPath, upTo: state.recordsBytes) { line in
            if try !spool.add(line: line) {
                guard case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream) else { return }
                try spool.add(entry)
            }
        }
        var lines = try spool.sortedLines()
        var toSkip = state.objectsDone
        var batch: [Object] = []
        var current: Object?
        var sinceSave = 0
        var referencesSeen = 0
        let total = state.recordsCount

        func flush() throws {
            guard !batch.isEmpty else { return }
            let results = try check(batch)
            for (object, result) in zip(batch, results) { try reportResult(result, object: object, manifests: manifests) }
            state.objectsDone += batch.count
            state.referencesDone += batch.reduce(0) { $0 + $1.references.count }
            state.lastObject = batch[batch.count - 1].sortKey
            sinceSave += batch.count
            batch.removeAll(keepingCapacity: true)
            if sinceSave >= Self.checkpointObjects || WallClock.now() - lastSave >= Self.checkpointSeconds {
                try save()
                sinceSave = 0
            }
            progress?(Progress(filesDone: state.referencesDone, filesTotal: total, bytesDone: 0, bytesTotal: 0))
        }
        func take(_ object: Object) throws {
            if toSkip > 0 {
                toSkip -= 1
                if toSkip == 0 && object.sortKey != state.lastObject {
                    throw CareError.badCheckpoint(path: recordsPath, reason: "its objects no longer sort as they did")
                }
                return
            }
            batch.append(object)
            if batch.count >= Self.batchSize { try flush() }
        }
        while let (line, key) = try lines.next() {
            referencesSeen += 1
            let dot = key.lastIndex(of: UInt8(ascii: ".")) ?? key.endIndex
            let sortKey = String(decoding: UnsafeRawBufferPointer(rebasing: key[..<dot]), as: UTF8.self)
            if current?.sortKey != sortKey {
                if let done = current { try take(done) }
                current = Object(sortKey: sortKey, physicalKey: "", references: [])
            }
            // An object the checkpoint counts as done is not parsed: only its sort key is compared (in `take`).
            if toSkip > 0 { continue }
            guard case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream),
                  case .object(let meta) = entry.meta, let m = meta["m"]?.intValue, let k = meta["k"]?.stringValue else {
                throw CareError.badCheckpoint(path: recordsPath, reason: "a record does not read")
            }
            current!.physicalKey = entry.physicalKey
            current!.references.append(Reference(manifest: m, logicalKey: k, size: entry.size, hash: entry.hash))
        }
        if let done = current { try take(done) }
        try flush()
        summary.references = referencesSeen
        try save()
    }

    private func reportResult(_ result: Found, object: Object, manifests: [(topHash: String, package: String?)]) throws {
        for ref in object.references {
            let manifest = manifests[ref.manifest]
            func finding(_ kind: CareFinding.Kind, _ detail: String) throws {
                try found(CareFinding(kind: kind, package: manifest.package, revision: manifest.topHash, key: ref.logicalKey,
                                      detail: object.physicalKey + (detail.isEmpty ? "" : ": " + detail)))
            }
            switch result {
            case .missing(let why):
                try finding(.missingObject, why)
            case .present(let size, let hashes):
                if size != ref.size {
                    try finding(.sizeMismatch, "\(size) bytes, the entry says \(ref.size)")
                } else if let expected = ref.hash, let actual = hashes[expected.type], actual.value != expected.value {
                    try finding(.hashMismatch, "hashes to \(actual.value), the entry says \(expected.value) (\(expected.type))")
                }
            }
        }
    }

    // MARK: Looking objects up

    /// Each object of the batch looked up (HEAD on S3, stat locally) and with `full` hashed, several at once.
    private func check(_ batch: [Object]) throws -> [Found] {
        let results = Locked<[Int: Found]>([:])
        let full = options.full, lookup = self.lookup
        try TransferPool.run(count: batch.count, maxConcurrency: concurrency) { i in
            let found = try lookup.lookUp(batch[i], full: full)
            results.withLock { $0[i] = found }
        }
        let done = results.value
        let flags = lookup.flags.value
        summary.objectsRead = flags.read
        summary.objectsFromChecksums = flags.fromChecksums
        return batch.indices.map { done[$0]! }
    }
}

/// Looking one object up, on any thread.
struct ObjectLookup: Sendable {
    typealias Object = RegistryCheck.Object
    typealias Found = RegistryCheck.Found
    let remote: @Sendable () throws -> S3Transfers
    let useS3Checksums: Bool
    /// Whether S3's checksums are still asked for (one store without GetObjectAttributes stops it), and the tally.
    let flags = Locked<(checksums: Bool, read: Int, fromChecksums: Int)>((true, 0, 0))

    /// The hash types the entries of `object` of this size need.
    private static func hashTypes(_ object: Object, size: Int) -> [HashType] {
        var types: [HashType] = []
        for ref in object.references where ref.size == size {
            if let type = ref.hash?.hashType, !types.contains(type) { types.append(type) }
        }
        return types
    }

    func lookUp(_ object: Object, full: Bool) throws -> Found {
        let key: PhysicalKey
        do { key = try PhysicalKey(url: object.physicalKey) } catch { return .missing("not a physical key: \(error.message)") }
        switch key {
        case .local(let path):
            guard let kind = FileSystem.kind(ofPath: path) else { return .missing("no such file") }
            guard case .regular(let size) = kind else { return .missing("not a regular file") }
            var hashes: [String: ObjectHash] = [:]
            if full {
                for type in Self.hashTypes(object, size: size) {
                    do {
                        let (hash, hashedSize) = try FileHasher.hash(path: path, type: type)
                        guard hashedSize == size else { return .present(size: hashedSize, hashes: [:]) }
                        hashes[type.rawValue] = hash
                        flags.withLock { $0.read += 1 }
                    } catch FileSystemError.notFound {
                        return .missing("no such file")
                    }
                }
            }
            return .present(size: size, hashes: hashes)
        case .s3(let bucket, let objectKey, let versionId):
            let transfers = try remote()
            let head: S3ObjectHead?
            do {
                head = try transfers.client.headObject(bucket: bucket, key: objectKey, versionId: versionId)
            } catch StorageError.noSuchBucket {
                return .missing("no such bucket")
            }
            guard let head else { return .missing(versionId == nil ? "no such key" : "no such version") }
            var hashes: [String: ObjectHash] = [:]
            if full {
                let source = S3ObjectReference(bucket: bucket, key: objectKey, versionId: versionId ?? head.versionId)
                for type in Self.hashTypes(object, size: head.size) {
                    hashes[type.rawValue] = try hashRemote(source, size: head.size, type: type, transfers: transfers)
                }
            }
            return .present(size: head.size, hashes: hashes)
        }
    }

    /// An S3 object's hash as a build finds it: from S3's SHA-256 checksums where they determine it (unless
    /// `QUILT_S3_CHECKSUMS=ignore`), else from its bytes (ranged GETs).
    private func hashRemote(_ source: S3ObjectReference, size: Int, type: HashType, transfers: S3Transfers) throws -> ObjectHash {
        if type == .sha2256Chunked {
            if useS3Checksums && flags.value.checksums {
                switch transfers.hashFromChecksums(source, size: size) {
                case .hash(let hash):
                    flags.withLock { $0.fromChecksums += 1 }
                    return hash
                case .undetermined: break
                case .unavailable: flags.withLock { $0.checksums = false }
                }
            }
            flags.withLock { $0.read += 1 }
            return try transfers.hashObject(source, size: size)
        }
        // Other hash types are read in order, through the reader manifests are read with.
        flags.withLock { $0.read += 1 }
        let reader = try S3ObjectReader(client: transfers.client, bucket: source.bucket, key: source.key, versionId: source.versionId)
        let hasher = StreamingHasher(type: type, expectedSize: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hasher.finalize()
    }
}
