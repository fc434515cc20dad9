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
