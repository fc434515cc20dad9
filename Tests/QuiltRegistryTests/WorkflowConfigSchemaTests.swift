// quilt3's workflows config schema (config-1.schema.json), as the workflows code embeds it, applied to configs
// as jsonschema 4.26.0 applies it.
import Testing
@testable import QuiltFormat
@testable import QuiltJSONSchema
@testable import QuiltRegistry

@Suite struct WorkflowConfigSchemaTests {
    /// quilt3 8.0.0's quilt3/workflows/config-1.schema.json, as the workflows code embeds it.
    static let quiltWorkflowsConfigSchema = WorkflowConfigSchema.text

    @Test(arguments: [
        // Draft7Validator(config-1.schema.json).iter_errors(config) with jsonschema 4.26.0: the first error.
        (#"{"version": "1", "workflows": {"alpha": {"name": "Alpha"}}}"#, nil, nil),
        (#"{"version": {"base": "1.1"}, "workflows": {"alpha": {"name": "Alpha"}}}"#, nil, nil),
        (#"{"version": "1", "workflows": {"alpha": {"name": "A", "handle_pattern": "("}}}"#, nil, nil),
        (#"{"workflows": {"alpha": {"name": "Alpha"}}}"#, "$", "'version' is a required property"),
        (#"{"version": "1.0.0.0", "workflows": {"alpha": {"name": "Alpha"}}}"#, "$.version",
         "'1.0.0.0' is not valid under any of the given schemas"),
        (#"{"version": {"base": "1", "x": 1}, "workflows": {"alpha": {"name": "Alpha"}}}"#, "$.version",
         "{'base': '1', 'x': 1} is not valid under any of the given schemas"),
        (#"{"version": "1", "workflows": {}}"#, "$.workflows", "{} should be non-empty"),
        (#"{"version": "1", "workflows": {"9bad": {"name": "Alpha"}}}"#, "$.workflows",
         "'9bad' does not match '^[A-Za-z_-][A-Za-z0-9_-]*$'"),
        (#"{"version": "1", "workflows": {"alpha": {"name": ""}}}"#, "$.workflows.alpha.name", "'' should be non-empty"),
        (#"{"version": "1", "workflows": {"alpha": {"name": "A", "extra": 1}}}"#, "$.workflows.alpha",
         "Additional properties are not allowed ('extra' was unexpected)"),
        (#"{"version": "1", "workflows": {"alpha": {"name": "A"}}, "schemas": {"s": {}}}"#, "$.schemas.s",
         "'url' is a required property"),
        (#"{"version": "1", "workflows": {"alpha": {"name": "A"}}, "successors": {"s3://b": {"title": "B", "copy_data": "yes"}}}"#,
         "$.successors['s3://b'].copy_data", "'yes' is not of type 'boolean'"),
    ] as [(String, String?, String?)])
    func quiltWorkflowsConfigs(config: String, path: String?, message: String?) throws {
        let schema = try JSONSchema(JSONParser.parse(Self.quiltWorkflowsConfigSchema))
        let failure = schema.validate(try JSONParser.parse(config))
        #expect(failure?.path == path)
        #expect(failure?.message == message)
    }
}
