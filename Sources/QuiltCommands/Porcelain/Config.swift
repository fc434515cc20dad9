// quilt config: read and set quilt3's config.yml keys.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Config: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Read and set configuration (quilt3's config.yml).",
        discussion: """
        With no arguments, prints every key as 'key: value'. With KEY, prints its value. With KEY VALUE, sets it \
        ('null' clears it). The file is quilt3's own, $XDG_DATA_HOME/Quilt/config.yml, so both tools share it.
        """)

    @Flag(name: .long, help: "Print the configuration as a JSON object.")
    var json = false

    @Argument(help: "A key, such as default_remote_registry.")
    var key: String?

    @Argument(help: "A new value.")
    var value: String?

    func execute(_ io: IO) throws {
        var config = try io.context().config
        if let key, let value {
            try config.set(key, QuiltConfig.parseScalar(value))
            return
        }
        if let key {
            guard QuiltConfig.knownKeys.contains(key), let value = config[key] ?? (QuiltConfig.ownKeys.contains(key) ? .null : nil) else { throw ConfigError.unknownKey(key) }
            io.line(terminalSafe(value.description))
            return
        }
        let keys = config.values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if json {
            io.json(.object(JSONObject(keys.map { key -> (String, JSONValue) in
                switch config.values[key]! {
                case .null: return (key, .null)
                case .bool(let b): return (key, .bool(b))
                case .int(let i): return (key, .int(i))
                case .string(let s): return (key, .string(s))
                }
            })))
            return
        }
        for key in keys { io.line("\(terminalSafe(key)): \(terminalSafe(config.values[key]!.description))") }
    }
}
