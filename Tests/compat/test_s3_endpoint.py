"""The local S3 endpoints scripts/test provides (s3-testing.md): reachable with the exported AWS settings."""

import os
import urllib.request

import pytest


@pytest.mark.s3
def test_main_endpoint_round_trip(s3_bucket, s3_endpoint):
    import boto3

    assert os.environ["AWS_ENDPOINT_URL"] == s3_endpoint
    s3 = boto3.client("s3")  # endpoint and credentials from the environment only
    put = s3.put_object(Bucket=s3_bucket, Key="a b/é.txt", Body=b"data", ContentType="application/octet-stream")
    assert put["VersionId"]
    assert s3.get_object(Bucket=s3_bucket, Key="a b/é.txt")["Body"].read() == b"data"


@pytest.mark.s3
def test_auth_endpoint_answers():
    url = os.environ.get("QUILT_TEST_S3_AUTH_ENDPOINT")
    assert url, "QUILT_TEST_S3_AUTH_ENDPOINT is not set"
    with urllib.request.urlopen(url + "/moto-api/data.json", timeout=10) as r:
        assert r.status == 200
