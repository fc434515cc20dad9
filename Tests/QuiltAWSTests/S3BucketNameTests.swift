// Bucket names as S3 allows them.
import Testing
@testable import QuiltAWS

@Suite struct S3BucketNameTests {
    @Test func bucketNamesFollowS3Rules() {
        for good in ["abc", "my-bucket", "my.bucket.2", "a" + String(repeating: "b", count: 61) + "c", "ap-x-s3alias"] {
            #expect(S3BucketName.problem(good) == nil, "\(good)")
        }
        for bad in ["ab", "Bad_Bucket!", "UPPER", "-dash", "dash-", "bad..name", "192.168.0.1", "under_score",
                    String(repeating: "a", count: 64), ""] {
            #expect(S3BucketName.problem(bad) != nil, "\(bad)")
        }
    }
}
