#!/usr/bin/env bash
test_description='a lost CreateMultipartUpload answer (the request reached S3, its answer was cut, the retry started a second upload) leaves no upload open: the orphan is aborted, through the fault proxy, for quilt-upload-blob and quilt push; a resumable upload with parts is kept'
. "$(dirname "$0")/lib.sh"

bucket=lost-create-$$-$RANDOM
trap proxy_stop EXIT

# open_uploads: the multipart uploads still open in the bucket, one key per line.
open_uploads() {
	"$QUILT_TEST_PYTHON" - "$bucket" <<-\PY
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	for u in s3.list_multipart_uploads(Bucket=sys.argv[1]).get("Uploads", []):
	    print(u["Key"])
	PY
}

test_expect_success S3 'setup: a versioned bucket and a file that goes up in parts' '
	s3_make_bucket "$bucket" --versioned &&
	make_file data/big.bin 9000000 && echo small >data/small.txt
'

test_expect_success S3 'quilt-upload-blob: the first POST (CreateMultipartUpload) is answered half and cut; the retry succeeds and no upload stays open' '
	proxy_start drop:1 --methods POST --max-faults 1 &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt-upload-blob -v data/big.bin "s3://$bucket/blob/big.bin" >entry 2>log &&
	proxy_stop &&
	test "$(grep -c "CreateMultipartUpload" log)" = 2 &&
	grep -q "ListMultipartUploads" log && grep -q "AbortMultipartUpload" log &&
	grep -q "POST .*?uploads drop" proxy.log &&
	open_uploads >open && test_line_count = 0 open &&
	grep -q "\"size\": 9000000" entry
'

test_expect_success S3 'quilt push: the same through a push of a package with a big file; it installs and verifies' '
	proxy_start drop:1 --methods POST --max-faults 1 &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt push t/lost data --registry "s3://$bucket" --message m >top 2>err &&
	proxy_stop &&
	open_uploads >open && test_line_count = 0 open &&
	quilt install t/lost --registry "s3://$bucket" --dest inst && quilt verify t/lost --registry "s3://$bucket" --dir inst
'

test_expect_success S3 'an open upload with parts (a killed run'"'"'s, to resume) is not taken for an orphan' '
	"$QUILT_TEST_PYTHON" - "$bucket" <<-\PY &&
	import os, sys, boto3
	s3 = boto3.client("s3", endpoint_url=os.environ["QUILT_TEST_S3_ENDPOINT"])
	u = s3.create_multipart_upload(Bucket=sys.argv[1], Key="blob/big.bin")
	s3.upload_part(Bucket=sys.argv[1], Key="blob/big.bin", UploadId=u["UploadId"], PartNumber=1, Body=b"x" * 5242880)
	PY
	proxy_start drop:1 --methods POST --max-faults 1 &&
	AWS_ENDPOINT_URL=$PROXY_URL quilt-upload-blob data/big.bin "s3://$bucket/blob/big.bin" >entry &&
	proxy_stop &&
	open_uploads >open && test_line_count = 1 open
'

test_done
