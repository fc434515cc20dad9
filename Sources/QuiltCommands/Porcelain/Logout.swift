// quilt logout: forget the catalog sign-in, as quilt3's logout does.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Logout: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Forget the Quilt catalog sign-in and its AWS credentials.",
        discussion: """
        Empties auth.json and credentials.json (both become {}), as quilt3's logout does: the tokens of every \
        catalog go, and AWS credentials come from the environment, profiles or instance roles again. Nothing is \
        sent to the catalog.
        """)

    @Flag(name: .long, help: "Print {logged_out} as JSON (false when already signed out).")
    var json = false

    func execute(_ io: IO) throws {
        let cleared = try io.context().logout()
        if json {
            io.json(.object(JSONObject([("logged_out", .bool(cleared))])))
        } else {
            io.info(cleared ? "Signed out" : "Already logged out.")
        }
    }
}
