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

    @Test func shardErrorsNameTheOptionOnTheCommandLineOnly() {
        let errors: [ShardError] = [
            .invalid("-1/4", reason: "the index must be from 0 to 3"), .noRunner,
            .outOfRange(index: -1, count: 4, source: "QUILT_SHARD_INDEX and QUILT_SHARD_COUNT"),
            .inputIsAnotherShard(part: "p", held: "1/4", wanted: "2/4"), .shardsMissing(["2/4"], count: 1),
        ]
        for error in errors {
            #expect(!error.message.contains("--") && !(error.hint ?? "").contains("--shard"), "\(error.message)")
            #expect((error.commandLineMessage + (error.commandLineHint ?? "")).contains("--shard"), "\(error.commandLineMessage)")
        }
        #expect(ShardError.outOfRange(index: -1, count: 4, source: "QUILT_SHARD_INDEX and QUILT_SHARD_COUNT").commandLineMessage
            == "--shard auto: index -1 is negative: shards are numbered from 0 to 3 (from QUILT_SHARD_INDEX and QUILT_SHARD_COUNT)")
    }

    @Test func theWorkflowOptionBecomesTheCoresChoice() {
        #expect(WorkflowChoice(argument: nil) == .unspecified)
        #expect(WorkflowChoice(argument: "") == .none)
        #expect(WorkflowChoice(argument: "alpha") == .id("alpha"))
    }
}
