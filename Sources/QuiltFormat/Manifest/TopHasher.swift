// The top hash: SHA-256 of the header's canonical form followed by every file entry's, in tree order. One engine,
// fed file entry lines; `TopHashPipeline` runs the same engine on another core while a writer writes.
import QuiltSupport
import Dispatch

/// Computes a top hash from a header and the file entry lines that follow it in tree order.
public final class TopHasher {
    private let sha = SHA256Hasher()
    private var canonical: [UInt8] = []

    /// Canonical forms are fed to SHA-256 in blocks of about this size: one call per line cost more than the lines.
    static let blockSize = 1 << 20

    /// Starts with the header (its `top_hash`, if any, is not hashed).
    public init(header: JSONObject) {
        var header = header
        header.removeValue(forKey: "top_hash")
        canonical.reserveCapacity(Self.blockSize + 8192)
        JSONWriter.writeCanonicalForm(.object(header), to: &canonical)
    }

    /// Adds a file entry line (without its newline); `entry` is the line already parsed, if the caller has it.
    public func add(line: UnsafeRawBufferPointer, parsed entry: ManifestEntry? = nil) throws(ManifestError) {
        try CanonicalEntry.append(line: line, parsed: entry, to: &canonical)
        if canonical.count >= Self.blockSize { flush() }
    }

    /// Adds a line in the writer's form whose shape the caller has read; false (nothing added) if its meta is
    /// not JSON.
    func add(line: UnsafeRawBufferPointer, shape: WriterFormLine) -> Bool {
        guard CanonicalEntry.appendInPlace(line: line, shape: shape, to: &canonical) else { return false }
        if canonical.count >= Self.blockSize { flush() }
        return true
    }

    /// Adds a block of file entry lines, each ending in a newline.
    public func add(lines block: UnsafeRawBufferPointer) throws(ManifestError) {
        var splitter = LineSplitter()
        try splitter.forEachLine(in: block) { line throws(ManifestError) in try add(line: line) }
    }

    private func flush() {
        sha.update(canonical)
        canonical.removeAll(keepingCapacity: true)
    }

    /// The top hash, as 64 hex digits. The hasher cannot be used afterwards.
    public func finish() -> String {
        flush()
        canonical = []
        return Hex.encode(sha.finalize())
    }
}

/// The top hash computed on another core: blocks of file lines are handed over as they are written, and the one
/// `TopHasher` is fed them there. At most a few blocks wait, so memory stays flat.
final class TopHashPipeline: @unchecked Sendable {
    // `hasher` and `failure` are used on `queue` only; `slots` bounds the blocks in flight.
    private let queue = DispatchQueue(label: "quilt.top-hash")
    private let slots = DispatchSemaphore(value: 4)
    private let hasher: TopHasher
    private var failure: (any Error)?

    init(header: JSONObject) {
        hasher = TopHasher(header: header)
    }

    /// Hands over a block of file lines, each ending in a newline.
    func submit(lines block: [UInt8]) {
        guard !block.isEmpty else { return }
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure == nil else { return }
            do { try block.withUnsafeBytes { try hasher.add(lines: $0) } } catch { failure = error }
        }
    }

    /// Waits for the blocks handed over and returns the top hash.
    func finish() throws -> String {
        try queue.sync {
            if let failure { throw failure }
            return hasher.finish()
        }
    }

    /// Waits for the blocks handed over (after a failure, so none outlives the writer's call).
    func wait() { queue.sync {} }
}
