// Quilt+ URIs as the catalog copies them and quilt-rs reads them, parsed in the one place revisions are.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltRegistry

@Suite struct QuiltURITests {
    static let hash = "e21682f00929661879633a5128aaa27cc7bc1e2973d49d4c868a90f9fad9f34b"

    @Test func theCatalogsFormsAreRevisions() throws {
        // The example of quilt's docs/Catalog/URI.md, with its catalog parameter.
        let rev = try Revision("quilt+s3://quilt-example#package=akarve/cord19@\(Self.hash)&path=CORD19.ipynb&catalog=open.quiltdata.com")
        #expect(rev.name == "akarve/cord19" && rev.selector == .hash(Self.hash) && rev.path == "CORD19.ipynb")
        #expect(rev.registry == .s3(bucket: "quilt-example", prefix: ""))
        // The catalog encodes the path with encodeURIComponent; quilt-rs's form decoding takes + as a space.
        let encoded = try Revision("quilt+s3://my-bucket#package=a/b&path=dir%2Fsub%2Fmy+file%20%231.csv")
        #expect(encoded.path == "dir/sub/my file #1.csv" && encoded.selector == .latest)
        #expect(try Revision("quilt+s3://my-bucket#package=a/b:latest").selector == .latest)
        #expect(try Revision("quilt+s3://my-bucket#package=a/b:1700000000").selector == .pointer("1700000000"))
        #expect(try Revision("quilt+s3://my-bucket/some/prefix#package=a/b@e21682").registry == .s3(bucket: "my-bucket", prefix: "some/prefix"))
        let local = try Revision("quilt+file:///tmp/x/../reg/#package=a/b&path=")
        #expect(local.registry == .local(path: "/tmp/reg") && local.path == nil)
        // Plain revisions are untouched.
        #expect(try Revision("a/b@e21682").registry == nil)
    }

    @Test func malformedURIsAreUsageErrors() {
        for text in ["quilt+s3://my-bucket", "quilt+s3://my-bucket#path=x", "quilt+s3://my-bucket#package=a/b&pth=x",
                     "quilt+s3://my-bucket#package=a/b@\(Self.hash):latest", "quilt+s3://my-bucket#package=a/b@xyz",
                     "quilt+s3://my-bucket#package=a/b:v1", "quilt+s3://my-bucket#package=a/b&package=a/c",
                     "quilt+s3://#package=a/b", "quilt+http://h#package=a/b", "quilt+s3://my-bucket?x=1#package=a/b",
                     "quilt+file://host/dir#package=a/b"] {
            do {
                _ = try Revision(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.kind == .usage, "\(text): \(error.message)")
            }
        }
        // A malformed name is bad input, as in a plain revision.
        #expect(throws: RegistryError.self) { try Revision("quilt+s3://my-bucket#package=bad") }
    }

    @Test func printedURIsReadBack() throws {
        let uri = QuiltURI(registry: .s3(bucket: "my-bucket", prefix: ""), name: "a/b", topHash: Self.hash, path: "d/my file&x.csv")
        #expect(uri.text == "quilt+s3://my-bucket#package=a/b@\(Self.hash)&path=d/my%20file%26x.csv")
        let rev = try Revision(uri.text)
        #expect(rev.path == "d/my file&x.csv" && rev.name == "a/b")
        #expect(QuiltURI(registry: .local(path: "/tmp/my reg"), name: "a/b", topHash: Self.hash).text
                == "quilt+file:///tmp/my%20reg#package=a/b@\(Self.hash)")
    }

    @Test func aURIsRegistryAgainstRegistry() throws {
        let directory = TemporaryDirectory()
        let context = try testContext(directory)
        let rev = try Revision("quilt+file://\(directory.path)/reg#package=a/b")
        #expect(try context.registry(nil, for: rev).url == RegistryLocation(directory.path + "/reg").url)
        #expect(try context.registry(directory.path + "/reg/", for: rev).url == RegistryLocation(directory.path + "/reg").url)
        #expect(throws: RegistryError.self) { try context.registry(directory.path + "/other", for: rev) }
        #expect(try QuiltContext.entryPath(try Revision("quilt+file:///r#package=a/b&path=x"), given: nil, what: "key") == "x")
        #expect(throws: RegistryError.self) {
            try QuiltContext.entryPath(try Revision("quilt+file:///r#package=a/b&path=x"), given: "y", what: "key")
        }
    }
}
