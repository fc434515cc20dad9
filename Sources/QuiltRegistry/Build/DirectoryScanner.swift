// Walking a local directory as quilt3's `set_dir` does: tree order, .quiltignore, links to files followed.
import QuiltSupport
import QuiltFormat

/// Walks a local directory the way quilt3's `set_dir` does.
public enum DirectoryScanner {
    public struct File: Sendable {
        /// `/`-separated path below the scanned directory: the logical key.
        public var relativePath: String
        /// The file's resolved path: what the physical key names.
        public var realPath: String
        public var size: Int
    }

    /// Every regular file below `directory`, in tree order.
    public static func scan(_ directory: String, applyIgnore: Bool = true) throws -> [File] {
        let root: String
        do { root = try FileSystem.realPath(directory) } catch { throw BuildError.notADirectory(directory) }
        guard FileSystem.isDirectory(root) else { throw BuildError.notADirectory(directory) }
        var ignore: QuiltIgnore?
        if applyIgnore, let bytes = try? FileSystem.readFile(root + "/.quiltignore") {
            ignore = QuiltIgnore(text: String(decoding: bytes, as: UTF8.self))
        }
        var files: [File] = []
        try walk(root, relative: "", ignore: ignore, into: &files)
        return files
    }

    /// Visits each directory's children sorted by name, which is the definition of tree order: the files come
    /// out in tree order with no sort of whole paths afterwards.
    private static func walk(_ directory: String, relative: String, ignore: QuiltIgnore?, into files: inout [File]) throws {
        var names: [String]
        do {
            names = try FileSystem.contentsOfDirectory(directory)
        } catch {
            throw BuildError.unreadable(path: directory, reason: error.message)
        }
        names.sort(by: LogicalKey.precedes)  // names hold no '/': plain code-point order
        for name in names {
            let path = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            guard let kind = FileSystem.kind(ofPath: path, followLinks: false) else { continue }
            switch kind {
            case .directory:
                if let ignore, ignore.ignoresDirectory(path) { continue }
                try walk(path, relative: key, ignore: ignore, into: &files)
            case .regular(let size):
                if let ignore, ignore.ignoresFile(path) { continue }
                files.append(File(relativePath: key, realPath: path, size: size))
            case .symbolicLink:
                // Links to files count (at their target); links to directories are not descended, as in quilt3.
                guard case .regular(let size)? = FileSystem.kind(ofPath: path) else { continue }
                if let ignore, ignore.ignoresFile(path) { continue }
                let real: String
                do { real = try FileSystem.realPath(path) } catch { continue }
                files.append(File(relativePath: key, realPath: real, size: size))
            case .other:
                continue
            }
        }
    }
}
