// quilt login: sign in to the configured Quilt catalog as quilt3's login does, so that both tools use the AWS
// credentials the catalog issues.
import ArgumentParser
import QuiltFormat
import QuiltRegistry
import QuiltSupport

struct Login: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in to the Quilt catalog and fetch its AWS credentials.",
        discussion: """
        Needs a catalog configured with 'quilt config URL'. On a terminal, shows <registryUrl>/login, opens it in \
        the desktop's browser when there is one, and reads the code that page shows without echoing it. When \
        standard input is not a terminal, the code is read from it instead (quilt login < code-file). The catalog's \
        tokens go to auth.json and its AWS credentials to credentials.json in quilt3's data directory (mode 0600), \
        in quilt3's format: a sign-in by either tool serves both. From then on those credentials are used instead \
        of any other AWS credentials, and renewed before they expire, until 'quilt logout'.
        """)

    @Flag(name: .long, help: "Print {registry_url, navigator_url, credentials_expire} as JSON.")
    var json = false

    func execute(_ io: IO) throws {
        let context = try io.context()
        let loginURL = try context.catalogLoginURL()
        let code: String
        if io.stdinIsTerminal {
            // (One message a line: a message is made terminal-safe whole, which would show a newline as `\n`.)
            io.message("Sign in at this page and copy the code it shows:")
            io.message("  " + loginURL)
            if Terminal.openBrowser(loginURL, environment: io.environment) { io.message("(opened in your browser)") }
            code = Terminal.readSecretLine(prompt: "Enter the code from the webpage: ")?.trimmingWhitespace ?? ""
        } else {
            let text = String(decoding: io.readStandardInput(), as: UTF8.self)
            code = text.split(whereSeparator: \.isNewline).map(\.trimmingWhitespace).first { !$0.isEmpty } ?? ""
        }
        let result = try context.login(code: code)
        if json {
            io.json(.object(JSONObject([
                ("registry_url", .string(result.registryURL)),
                ("navigator_url", result.navigatorURL.map { .string($0) } ?? .null),
                ("credentials_expire", .string(result.credentialsExpire)),
            ])))
        } else {
            io.info(terminalSafe("Signed in to \(result.navigatorURL ?? result.registryURL); AWS credentials valid until \(result.credentialsExpire)"))
        }
    }
}
