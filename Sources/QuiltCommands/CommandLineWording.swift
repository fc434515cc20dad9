// The core's typed values and errors in the command line's terms: the core says what is wrong, or what was chosen,
// in its own words; here the options a user typed are named, and option text becomes the core's values.
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// A core error whose message, as a command prints it, names the option the user typed. `IO.report` asks for
/// these words before the core's own.
protocol CommandLineWorded: QuiltError {
    var commandLineMessage: String { get }
    var commandLineHint: String? { get }
}

extension PushError: CommandLineWorded {
    var commandLineMessage: String {
        switch self {
        case .noRegistry: return "no registry: give --registry s3://bucket or set 'quilt config default_remote_registry'"
        case .destinationOutsideRegistry(let dest, let bucket):
            return "--dest must be in the registry bucket \(quoted(bucket)), not \(quoted(dest))"
        case .localFileNotCopied(let key): return "with --copy none, local file entries cannot be published \(quoted(key))"
        case .fromRegistryWithoutFrom: return "--from-registry needs --from: the revision to read there"
        default: return message
        }
    }

    var commandLineHint: String? {
        switch self {
        case .notInLocalRegistry(let name, _):
            return "a push without DIR publishes a locally built revision; to push a directory: quilt push \(name) DIR --registry s3://bucket"
        case .notABucket(let url):
            if case .s3(let bucket, let prefix)? = try? RegistryLocation(url), !prefix.isEmpty {
                return "to put the data under a prefix: --registry s3://\(bucket) --dest s3://\(bucket)/\(prefix)"
            }
            return hint
        case .destinationOutsideRegistry(let dest, _):
            if case .s3(let bucket, _, _)? = try? PhysicalKey(url: dest) {
                return "to publish into that bucket, make it the registry: --registry s3://\(bucket)"
            }
            return hint
        case .fromRegistryWithoutFrom:
            return "promote a revision: quilt push NAME --from NAME --from-registry s3://A --registry s3://B"
        default:
            return hint
        }
    }
}

extension CacheError: CommandLineWorded {
    var commandLineMessage: String {
        switch self {
        case .noPruneLimit: return "prune needs --older-than, --max-size or cache_max_size in config.yml"
        }
    }

    var commandLineHint: String? { hint }
}

extension ShardError: CommandLineWorded {
    var commandLineMessage: String { message(naming: "--shard") }
    var commandLineHint: String? { hint(naming: "--shard") }
}

extension CareError: CommandLineWorded {
    var commandLineMessage: String { message }

    var commandLineHint: String? {
        switch self {
        case .badCheckpoint: return "run quilt fsck without --resume to check from the start"
        default: return hint
        }
    }
}

extension WorkflowChoice {
    /// `--workflow` as given: absent for the config's default, empty for none, else the workflow's id.
    init(argument: String?) {
        switch argument {
        case nil: self = .unspecified
        case ""?: self = .none
        case let id?: self = .id(id)
        }
    }
}
