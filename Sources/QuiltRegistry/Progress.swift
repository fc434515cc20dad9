// Progress of long operations, reported to whoever shows it: the core never prints.

/// Progress of a long operation, reported to whoever shows it (the core never prints).
public struct Progress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: Int
    public var bytesTotal: Int

    public init(filesDone: Int, filesTotal: Int, bytesDone: Int, bytesTotal: Int) {
        self.filesDone = filesDone
        self.filesTotal = filesTotal
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
    }
}

public typealias ProgressHandler = @Sendable (Progress) -> Void

/// Told one line per decision worth explaining afterwards (which registry, which workflow, upload or reuse), for
/// `QUILT_TRACE`. The core never prints; whoever runs it decides where the lines go.
public typealias TraceHandler = @Sendable (String) -> Void
