// quilt config: read and set quilt3's config.yml keys, or configure a catalog from its URL (quilt3's config(URL)).
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Config: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Read and set configuration (quilt3's config.yml), or configure a catalog.",
        discussion: """
        With no arguments, prints every key as 'key: value'. With KEY, prints its value. With KEY VALUE, sets it \
        ('null' clears it). With a catalog URL (http:// or https://) alone, reads the catalog's config.json and \
        rewrites the file as quilt3.config(URL) does: quilt3's defaults, the keys the catalog gives, navigator_url; \
        the old file is kept as config.yml.backup.<time>. The file is quilt3's own, $XDG_DATA_HOME/Quilt/config.yml, \
        so both tools share it. The suite's own settings: requests_timeout (seconds), max_pool_connections, \
        multipart_threshold and multipart_chunksize (bytes, 5 MiB to 5 GiB); the environment variables that mean \
        the same win over them.
        """)

    @Flag(name: .long, help: "Print the configuration as a JSON object.")
    var json = false

    @Argument(help: "A key, such as default_remote_registry, or a catalog URL.", completion: .list(QuiltConfig.knownKeys))
    var key: String?

    @Argument(help: "A new value.")
    var value: String?

    func execute(_ io: IO) throws {
        var config = try io.context().config
        if let key, value == nil, key.lowercased().hasPrefix("http://") || key.lowercased().hasPrefix("https://") {
            config = try io.context().configureCatalog(key)
            if json {
                printAll(config, io)
            } else {
                io.info("Configured the catalog \(config.navigatorURL ?? key); sign in with 'quilt login'")
            }
            return
        }
        if let key, let value {
            try config.set(key, QuiltConfig.parseScalar(value))
            return
        }
        if let key {
            try config.checkKey(key)
            io.line(terminalSafe((config[key] ?? .null).description))
            return
        }
        printAll(config, io)
    }

    private func printAll(_ config: QuiltConfig, _ io: IO) {
        let keys = config.values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if json {
            io.json(.object(JSONObject(keys.map { ($0, config.values[$0]!.json) })))
            return
        }
        for key in keys { io.line("\(terminalSafe(key)): \(terminalSafe(config.values[key]!.description))") }
    }
}
