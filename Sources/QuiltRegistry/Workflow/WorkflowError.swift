// How workflow checks fail: a broken config or schema (the registry's fault), a package that breaks a rule (the
// input's fault), or a workflow asked for that cannot apply (the arguments' fault).
import QuiltSupport

public enum WorkflowError: QuiltError, Equatable {
    /// The config or a schema could not be read (not "absent": absent means no workflows); `hint` is the
    /// underlying error's (a 403 says to check the credentials).
    case unreadable(url: String, reason: String, hint: String? = nil)
    /// The config is not YAML, not a valid config, or of an unsupported version; a schema is not JSON, not a
    /// valid draft-07 schema, uses `$ref`, or names another meta-schema.
    case brokenConfig(url: String, reason: String)
    /// `--workflow` given but the registry has no workflows config.
    case noConfig(workflow: String?, registry: String)
    /// No workflow given or defaulted, and the config requires one.
    case required(known: [String])
    /// A workflow id the config does not define (`fromDefault`: named by `default_workflow`).
    case unknownWorkflow(String, known: [String], fromDefault: Bool)
    /// A workflow checks the package name, so plumbing must be told it (`--name`).
    case nameNeeded
    /// The package breaks one of the workflow's rules.
    case failed(workflow: String?, rule: Rule, path: String?, reason: String)

    /// The rules a workflow applies, in the order quilt3 applies them.
    public enum Rule: String, Sendable, Equatable {
        case message, name, metadata, entries
    }

    public var kind: FailureKind {
        switch self {
        case .unreadable: return .operationFailed
        case .noConfig, .nameNeeded: return .usage
        case .unknownWorkflow(_, _, let fromDefault): return fromDefault ? .badInput : .usage
        case .brokenConfig, .required, .failed: return .badInput
        }
    }

    public var message: String {
        switch self {
        case .unreadable(let url, let reason, _): return "cannot read workflows config \(quoted(url)): \(reason)"
        case .brokenConfig(let url, let reason): return "invalid workflows config \(quoted(url)): \(reason)"
        case .noConfig(let workflow, let registry):
            let what = workflow.map { "workflow \(quoted($0))" } ?? "no workflow (--workflow '')"
            return "\(what) given, but the registry \(quoted(registry)) has no workflows config"
        case .required: return "the registry requires a workflow, and none was given"
        case .nameNeeded: return "the registry has workflows, which check the package name: give --name NS/NAME"
        case .unknownWorkflow(let id, _, let fromDefault):
            return "no workflow \(quoted(id)) in the workflows config" + (fromDefault ? " (its default_workflow)" : "")
        case .failed(let workflow, let rule, let path, let reason):
            let name = workflow.map(quoted) ?? "None"
            switch rule {
            case .message: return "message fails workflow \(name): a message is required"
            case .name: return "name fails workflow \(name): \(reason)"
            case .metadata, .entries:
                return "\(rule.rawValue) fails workflow \(name)" + (path.map { " at \($0)" } ?? "") + ": " + reason
            }
        }
    }

    public var hint: String? {
        switch self {
        case .required(let known), .unknownWorkflow(_, let known, false):
            return "give --workflow ID, one of: " + known.joined(separator: ", ")
        case .noConfig: return "leave out --workflow: without a workflows config nothing is validated"
        case .failed(_, .message, _, _): return "give --message"
        case .unreadable(_, _, let hint): return hint
        default: return nil
        }
    }
}
