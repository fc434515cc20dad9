// The core says what is wrong in its own terms; the command line names the options the user typed.
import Testing
@testable import QuiltSupport
@testable import QuiltCommands
@testable import QuiltRegistry

@Suite struct CommandLineWordingTests {
    @Test func coreErrorsNameNoOptionAndTheCommandLineDoes() {
        let errors: [any CommandLineWorded] = [
            PushError.noRegistry, PushError.destinationOutsideRegistry(dest: "s3://other/x", bucket: "b"),
            PushError.localFileNotCopied("k"), CacheError.noPruneLimit,
        ]
        for error in errors {
            #expect(!error.message.contains("--"), "\(error.message)")
            #expect(error.commandLineMessage.contains("--"), "\(error.commandLineMessage)")
        }
        #expect(PushError.noRegistry.commandLineMessage
            == "no registry: give --registry s3://bucket or set 'quilt config default_remote_registry'")
        let notLocal = PushError.notInLocalRegistry(name: "ns/p", registry: "file:///r")
        #expect(notLocal.commandLineMessage == notLocal.message && notLocal.hint?.contains("quilt push") == false)
        #expect(notLocal.commandLineHint
            == "a push without DIR publishes a locally built revision; to push a directory: quilt push ns/p DIR --registry s3://bucket")
        #expect(PushError.badDestination("x").commandLineMessage == PushError.badDestination("x").message)
    }

    @Test func theWorkflowOptionBecomesTheCoresChoice() {
        #expect(WorkflowChoice(argument: nil) == .unspecified)
        #expect(WorkflowChoice(argument: "") == .none)
        #expect(WorkflowChoice(argument: "alpha") == .id("alpha"))
    }
}
