// A reader for the AWS CLI's INI files (~/.aws/credentials, ~/.aws/config), including nested sub-properties.
import QuiltSupport

/// The sections of an AWS INI file. Keys are lowercased; sub-properties (an empty value followed by indented
/// `key = value` lines, as in `s3 =\n  endpoint_url = …`) are stored as `parent.key`.
struct AWSINIFile: Sendable, Equatable {
    /// Section name (as written between the brackets, trimmed) → key → value.
    var sections: [String: [String: String]] = [:]

    static func parse(_ text: String) -> AWSINIFile {
        var file = AWSINIFile()
        var section: String?
        var parentKey: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"
            if trimmed.hasPrefix("[") {
                // `[profile dev] # comment`: the name ends at the first `]`.
                guard let close = trimmed.firstIndex(of: "]") else {
                    section = nil
                    continue
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingSpaces
                section = name
                parentKey = nil
                if file.sections[name] == nil { file.sections[name] = [:] }
                continue
            }
            guard let current = section, let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingSpaces.lowercased()
            let value = trimmed[trimmed.index(after: equals)...].trimmingSpaces
            if indented, let parent = parentKey {
                file.sections[current]?["\(parent).\(key)"] = value
                continue
            }
            file.sections[current]?[key] = value
            // An empty value opens a block of indented sub-properties.
            parentKey = value.isEmpty ? key : nil
        }
        return file
    }
}
