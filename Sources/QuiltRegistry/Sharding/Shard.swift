// Shards: every worker of a job array takes the entries whose logical keys fall in its slot, so N machines split
// one package's work without talking to each other, and any language can recompute the split.
import QuiltSupport
import QuiltFormat

/// Slot `index` of `count`: the logical keys whose stable hash modulo `count` is `index`.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1 else { throw .invalid("\(index)/\(count)", reason: "the count must be at least 1") }
        guard index >= 0, index < count else {
            throw .invalid("\(index)/\(count)", reason: "the index must be from 0 to \(count - 1)")
        }
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// The slot of `logicalKey` among `count`: the first 8 bytes of SHA-256 of its UTF-8 bytes, big-endian, modulo
    /// `count` (Python: `int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big") % n`). Not Swift's
    /// `Hasher`, which is seeded per process: two workers must agree without talking. A cryptographic hash spreads
    /// any naming scheme (sequential numbers, shared prefixes) evenly, so each slot gets about 1/count of the keys.
    public static func slot(of logicalKey: String, count: Int) -> Int {
        var key = logicalKey
        return key.withUTF8 { Int(slotValue(of: UnsafeRawBufferPointer($0)) % UInt64(count)) }
    }

    public func contains(_ logicalKey: String) -> Bool {
        count == 1 || Self.slot(of: logicalKey, count: count) == index
    }

    /// The stream items of this shard: entries and directory-metadata lines by their keys (so each directory line
    /// comes out of exactly one shard); a header line is kept by shard 0 only.
    public func contains(_ item: ManifestLine.Item) -> Bool {
        switch item {
        case .entry(let entry): return contains(entry.logicalKey)
        case .directory(let key, _): return contains(key)
        case .header: return index == 0
        case .shardTrailer: return false
        }
    }
}

/// How a worker learned its shard, for `--verbose`.
public struct ResolvedShard: Sendable {
    public let shard: Shard
    /// The variables (or `the command line`) the index and count came from.
    public let source: String
}

extension Shard {
    /// The job runners whose array variables `--shard auto` reads, in the order they are tried. Only the index is
    /// set by Kubernetes; the count comes from the runner where it sets one, else from `QUILT_SHARD_COUNT` or
    /// `auto/N`.
    public static let indexVariables = ["QUILT_SHARD_INDEX", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX",
                                        "SLURM_ARRAY_TASK_ID"]

    /// Parses `--shard`: `K/N` (0 ≤ K < N), `auto` (index and count from the job runner's variables in
    /// `environment`), or `auto/N` (index from the runner, count N, for runners that do not export one).
    public static func resolve(_ text: String, environment: [String: String]) throws(ShardError) -> ResolvedShard {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts[0] == "auto" {
            var count: Int?
            if parts.count == 2 {
                guard let n = Int(parts[1]), n >= 1 else { throw .invalid(text, reason: "auto/N needs a count N of at least 1") }
                count = n
            }
            return try fromRunner(environment: environment, count: count)
        }
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .invalid(text, reason: "expected K/N, auto or auto/N")
        }
        return ResolvedShard(shard: try Shard(index: index, count: count), source: "the command line")
    }

    /// The shard the job runner assigned: the first runner in `indexVariables` order whose index variable is set.
    static func fromRunner(environment: [String: String], count explicit: Int?) throws(ShardError) -> ResolvedShard {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingWhitespace, !text.isEmpty else { return nil }
            return text
        }
        /// (Kept within 32 bits, far above any job runner's arrays, so that the Slurm arithmetic below cannot
        /// overflow whatever the environment says.)
        func integer(_ name: String) throws(ShardError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let n = Int(text) else { throw .badVariable(name, value: text) }
            guard n.magnitude <= UInt(Int32.max) else { throw .variableOutOfRange(name, value: text) }
            return n
        }
        /// The count: `auto/N`, else the runner's own variable, else `QUILT_SHARD_COUNT`.
        func make(_ index: Int, _ indexVariable: String, countVariable runner: String?) throws(ShardError) -> ResolvedShard {
            var count = explicit.map { ($0, "auto/\($0)") }
            if count == nil, let runner, let n = try integer(runner) { count = (n, runner) }
            if count == nil, let n = try integer("QUILT_SHARD_COUNT") { count = (n, "QUILT_SHARD_COUNT") }
            guard let (n, countSource) = count else { throw .noCount(index: indexVariable, runnerVariable: runner) }
            let source = "\(indexVariable) and \(countSource)"
            do { return ResolvedShard(shard: try Shard(index: index, count: n), source: source) } catch {
                throw .outOfRange(index: index, count: n, source: source)
            }
        }
        if let index = try integer("QUILT_SHARD_INDEX") {
            return try make(index, "QUILT_SHARD_INDEX", countVariable: nil)
        }
        // Kubernetes indexed Job: JOB_COMPLETION_INDEX is 0-based; Kubernetes exports no count (the Job's
        // completions must be passed in).
        if let index = try integer("JOB_COMPLETION_INDEX") {
            return try make(index, "JOB_COMPLETION_INDEX", countVariable: nil)
        }
        // AWS Batch array job: the child's 0-based index, and the parent's size where Batch passes it down.
        if let index = try integer("AWS_BATCH_JOB_ARRAY_INDEX") {
            return try make(index, "AWS_BATCH_JOB_ARRAY_INDEX", countVariable: "AWS_BATCH_JOB_ARRAY_SIZE")
        }
        // Slurm job array: task ids need not start at 0 (`--array=1-8`) and may step (`--array=0-30:2`).
        if let id = try integer("SLURM_ARRAY_TASK_ID") {
            return try slurm(id: id, explicit: explicit, integer: integer)
        }
        throw .noRunner
    }

    /// Slurm's task id as a 0-based index: `(id - MIN) / STEP` over a regular range `MIN, MIN+STEP, …, MAX`.
    /// An irregular list (`--array=1,4,9`) has no such mapping: its ids must be given as `K/N` by the script.
    static func slurm(id: Int, explicit: Int?, integer: (String) throws(ShardError) -> Int?) throws(ShardError) -> ResolvedShard {
        let minimum = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
        let step = max(1, try integer("SLURM_ARRAY_TASK_STEP") ?? 1)
        let maximum = try integer("SLURM_ARRAY_TASK_MAX")
        let tasks = try integer("SLURM_ARRAY_TASK_COUNT") ?? maximum.map { ($0 - minimum) / step + 1 }
        guard id >= minimum, (id - minimum) % step == 0 else { throw .irregularSlurmArray(id: id) }
        if let maximum, let tasks, minimum + (tasks - 1) * step != maximum { throw .irregularSlurmArray(id: id) }
        let index = (id - minimum) / step
        let source: String
        let count: Int
        if let explicit {
            count = explicit
            source = "SLURM_ARRAY_TASK_ID and auto/\(explicit)"
        } else if let tasks {
            count = tasks
            source = "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT"
        } else if let n = try integer("QUILT_SHARD_COUNT") {
            count = n
            source = "SLURM_ARRAY_TASK_ID and QUILT_SHARD_COUNT"
        } else {
            throw .noCount(index: "SLURM_ARRAY_TASK_ID", runnerVariable: "SLURM_ARRAY_TASK_COUNT")
        }
        do {
            return ResolvedShard(shard: try Shard(index: index, count: count), source: source)
        } catch {
            throw .outOfRange(index: index, count: count, source: source)
        }
    }
}

public enum ShardError: QuiltError {
    case invalid(String, reason: String)
    case noRunner
    /// An index variable is set but nothing gives the count.
    case noCount(index: String, runnerVariable: String?)
    case badVariable(String, value: String)
    case variableOutOfRange(String, value: String)
    case outOfRange(index: Int, count: Int, source: String)
    case irregularSlurmArray(id: Int)
    /// A part whose lines do not match its trailer (`reason` says how).
    case partMismatch(part: String, shard: String, reason: String)
    /// Of parts with trailers, one without any (the shards no part names are `missing`, the first few).
    case partWithoutTrailer(part: String, missing: [String], missingCount: Int)
    /// A part with lines after its last trailer: cut short while writing a segment, or parts joined wrongly.
    case linesAfterTrailer(part: String)
    case shardTwice(shard: String, first: String, second: String)
    case shardsMissing([String], count: Int)
    /// Parts of different counts (two runs mixed).
    case mixedCounts(part: String, shard: String, otherPart: String, otherShard: String)
    /// quilt-upload-blob --shard given a part of other shards.
    case inputIsAnotherShard(part: String, held: String, wanted: String)
    /// quilt-upload-blob --shard given nothing at all (no line, no trailer).
    case emptyInput(shard: String)

    public var kind: FailureKind {
        switch self {
        case .partMismatch, .partWithoutTrailer, .linesAfterTrailer, .shardTwice, .shardsMissing, .mixedCounts,
             .inputIsAnotherShard, .emptyInput:
            return .badInput
        default:
            return .usage
        }
    }

    // The core names no command-line option: `option` is what the words call the shard's setting ("shard" here,
    // the option a user typed in QuiltCommands' CommandLineWording).
    public var message: String { message(naming: "shard") }
    public var hint: String? { hint(naming: "shard") }

    public func message(naming option: String) -> String {
        switch self {
        case .invalid(let text, let reason): return "invalid \(option) \(quoted(text)): \(reason)"
        case .noRunner: return "\(option) auto: no job-runner index variable is set"
        case .noCount(let index, let runner):
            return "\(option) auto: the index is from \(index) but nothing gives the count"
                + (runner.map { " (\($0) is not set)" } ?? "")
        case .badVariable(let name, let value): return "\(option) auto: \(name) is not an integer \(quoted(value))"
        case .variableOutOfRange(let name, let value):
            return "\(option) auto: \(name) is out of range \(quoted(value)) (job runners number tasks far below 2^31)"
        case .outOfRange(let index, let count, let source):
            if count < 1 { return "\(option) auto: the count \(count) is not a number of workers: it must be at least 1 (from \(source))" }
            if index < 0 {
                return "\(option) auto: index \(index) is negative: shards are numbered from 0 to \(count - 1) (from \(source))"
            }
            return "\(option) auto: index \(index) is not below the count \(count): shards are numbered from 0 to \(count - 1) (from \(source))"
        case .irregularSlurmArray(let id):
            return "\(option) auto: Slurm task id \(id) is not on a regular MIN-MAX:STEP range"
        case .partMismatch(let part, let shard, let reason):
            return "shard \(shard) in \(quoted(part)) does not match its trailer: \(reason)"
        case .partWithoutTrailer(let part, let missing, let missingCount):
            let shards = missing.isEmpty ? "" : ", and no part is shard " + missing.joined(separator: ", ")
                + (missingCount > missing.count ? " (\(missingCount) in all)" : "")
            return "part \(quoted(part)) ends without a shard trailer\(shards)"
        case .linesAfterTrailer(let part):
            return "part \(quoted(part)) has lines after its last shard trailer"
        case .shardTwice(let shard, let first, let second):
            return "shard \(shard) appears twice: in \(quoted(first)) and in \(quoted(second))"
        case .shardsMissing(let shards, let count):
            return "shard \(shards.joined(separator: ", "))\(count > shards.count ? " (\(count) in all)" : "") \(shards.count == 1 ? "is" : "are") missing: no part ends with \(shards.count == 1 ? "its" : "their") trailer"
        case .mixedCounts(let part, let shard, let otherPart, let otherShard):
            return "\(quoted(part)) is shard \(shard) but \(quoted(otherPart)) is shard \(otherShard): parts of different runs"
        case .emptyInput(let shard):
            return "no entries on standard input for shard \(shard), and no shard trailer"
        case .inputIsAnotherShard(let part, let held, let wanted):
            return "\(quoted(part)) holds shard \(held), not all of the package: \(option) \(wanted) would leave out entries"
        }
    }

    public func hint(naming option: String) -> String? {
        switch self {
        case .noRunner:
            return "set by Kubernetes indexed Jobs (JOB_COMPLETION_INDEX), AWS Batch array jobs (AWS_BATCH_JOB_ARRAY_INDEX), Slurm arrays (SLURM_ARRAY_TASK_ID), or QUILT_SHARD_INDEX; or give \(option) K/N"
        case .noCount:
            return "export QUILT_SHARD_COUNT=<workers> (a Kubernetes Job's completions) or give \(option) auto/<workers>"
        case .irregularSlurmArray:
            return "use --array=MIN-MAX[:STEP], or give \(option) K/N from the script"
        case .partWithoutTrailer, .linesAfterTrailer, .shardsMissing:
            return "a \(option) program ends its output with a {\"shard\": …} line, so a part without it was cut short (its worker killed or failed): run that shard again"
        case .partMismatch:
            return "the part was changed after its worker wrote it: run that shard again"
        case .emptyInput:
            return "the step before this one printed nothing (did it fail? use set -o pipefail); a shard with no files is a quilt-hash-object \(option) output, which ends with its trailer"
        case .shardTwice, .mixedCounts:
            return "give each shard's part once, all from the same run"
        default: return nil
        }
    }
}
