// Shards: the slot function is the documented one, every key lands in exactly one shard, the split is even, and
// `--shard auto` reads each job runner's variables as that runner sets them.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltRegistry

@Suite struct ShardTests {
    /// Values from Python: int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big") % n.
    @Test func slotIsTheDocumentedHash() {
        #expect(Shard.slot(of: "a.txt", count: 1_000_003) == 323_348)
        #expect(Shard.slot(of: "sub/b.json", count: 7) == 5)
        #expect(Shard.slot(of: "é/ü+%.txt", count: 1000) == 531)
        #expect(Shard.slot(of: "", count: 5) == 2)
    }

    @Test func everyKeyIsInExactlyOneShardAndTheSplitIsEven() throws {
        let keys = (0..<20_000).map { "dir\($0 % 37)/file-\($0).csv" }
        let count = 8
        var sizes = [Int](repeating: 0, count: count)
        for key in keys {
            let owners = try (0..<count).filter { try Shard(index: $0, count: count).contains(key) }
            #expect(owners.count == 1)
            sizes[owners[0]] += 1
        }
        // 2,500 expected each; a binomial spread stays well within 10%.
        #expect(sizes.allSatisfy { abs($0 - keys.count / count) < keys.count / count / 10 }, "\(sizes)")
    }

    @Test func directoryLinesGoToOneShardAndHeadersToTheFirst() throws {
        let directory = ManifestLine.Item.directory(key: "d/", meta: .null)
        let owners = try (0..<4).filter { try Shard(index: $0, count: 4).contains(directory) }
        #expect(owners.count == 1)
        let header = ManifestLine.Item.header(JSONObject())
        #expect(try (0..<4).filter { try Shard(index: $0, count: 4).contains(header) } == [0])
    }

    @Test func literalForms() throws {
        #expect(try Shard.resolve("2/5", environment: [:]).shard == Shard(index: 2, count: 5))
        #expect(try Shard.resolve("0/1", environment: [:]).shard == Shard(index: 0, count: 1))
        for bad in ["5/5", "-1/3", "1/0", "1", "a/b", "1/2/3", ""] {
            #expect(throws: ShardError.self, "\(bad)") { try Shard.resolve(bad, environment: [:]) }
        }
    }

    func auto(_ environment: [String: String], _ text: String = "auto") throws -> ResolvedShard {
        try Shard.resolve(text, environment: environment)
    }

    @Test func kubernetesIndexedJobNeedsTheCountPassedIn() throws {
        #expect(throws: ShardError.self) { try auto(["JOB_COMPLETION_INDEX": "3"]) }
        let viaVariable = try auto(["JOB_COMPLETION_INDEX": "3", "QUILT_SHARD_COUNT": "8"])
        #expect(viaVariable.shard == (try Shard(index: 3, count: 8)))
        #expect(viaVariable.source == "JOB_COMPLETION_INDEX and QUILT_SHARD_COUNT")
        #expect(try auto(["JOB_COMPLETION_INDEX": "3"], "auto/4").shard == (try Shard(index: 3, count: 4)))
        #expect(throws: ShardError.self) { try auto(["JOB_COMPLETION_INDEX": "4"], "auto/4") }
    }

    @Test func awsBatchArrayJob() throws {
        #expect(try auto(["AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "10"]).shard == (try Shard(index: 0, count: 10)))
        // Without the size variable the count must come from elsewhere.
        #expect(throws: ShardError.self) { try auto(["AWS_BATCH_JOB_ARRAY_INDEX": "1"]) }
        #expect(try auto(["AWS_BATCH_JOB_ARRAY_INDEX": "1", "QUILT_SHARD_COUNT": "2"]).shard == (try Shard(index: 1, count: 2)))
    }

    @Test func slurmArrays() throws {
        // --array=1-8: ids 1…8 are indexes 0…7.
        let oneBased = ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8",
                        "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_STEP": "1"]
        #expect(try auto(oneBased).shard == (try Shard(index: 0, count: 8)))
        // --array=0-30:10: ids 0, 10, 20, 30.
        let stepped = ["SLURM_ARRAY_TASK_ID": "20", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "30",
                       "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "10"]
        #expect(try auto(stepped).shard == (try Shard(index: 2, count: 4)))
        // Only MIN and MAX: the count follows.
        #expect(try auto(["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "2", "SLURM_ARRAY_TASK_MAX": "5"]).shard
                == (try Shard(index: 3, count: 4)))
        // --array=1,4,9 has no regular mapping.
        let irregular = ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9",
                         "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_STEP": "1"]
        #expect(throws: ShardError.self) { try auto(irregular) }
    }

    @Test func explicitVariablesComeFirstAndNothingSetIsAnError() throws {
        let both = ["QUILT_SHARD_INDEX": "1", "QUILT_SHARD_COUNT": "3", "JOB_COMPLETION_INDEX": "0"]
        #expect(try auto(both).shard == (try Shard(index: 1, count: 3)))
        #expect(throws: ShardError.self) { try auto([:]) }
        #expect(throws: ShardError.self) { try auto(["JOB_COMPLETION_INDEX": "x", "QUILT_SHARD_COUNT": "2"]) }
    }

    @Test func entriesOfOneShardAreOnlyThoseFiles() throws {
        let dir = TemporaryDirectory()
        let paths = (0..<30).map { dir.file("data/f\($0).txt", "\($0)") }
        var union: [String] = []
        for k in 0..<3 {
            let entries = try FileEntries(root: dir.path + "/data", shard: Shard(index: k, count: 3)).entries(paths, type: .sha2256Chunked)
            #expect(entries.allSatisfy { Shard.slot(of: $0.logicalKey, count: 3) == k })
            union += entries.map(\.logicalKey)
        }
        #expect(union.sorted() == (0..<30).map { "f\($0).txt" }.sorted())
    }
}
