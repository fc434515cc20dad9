// quilt-serve: `quilt serve` with the server linked in (QuiltServe: Hummingbird, NIO), which no other program
// carries. `quilt serve` runs this program.
import QuiltCommands
import QuiltServe

ServeHost.run = { request in
    try RegistryBrowser.run(BrowserConfiguration(registries: request.registries, host: request.host, port: request.port,
                                                 context: request.context, log: request.log, ready: request.ready))
}
CommandTable.main(program: "quilt-serve")
