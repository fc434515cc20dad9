#!/usr/bin/env bash
test_description='config.yml: the suite settings (requests_timeout, max_pool_connections, multipart_threshold,
multipart_chunksize) checked when set, honoured, overridden by the environment, and tolerated by quilt3; keys quilt3
wrote are readable and settable; YAML 1.1 look-alike strings written so that PyYAML reads them back as strings'
. "$(dirname "$0")/lib.sh"

C=$XDG_DATA_HOME/Quilt/config.yml
free_port() { "$QUILT_TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIDS=
cleanup() { local p; for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=; }
trap cleanup EXIT

test_expect_success 'settings are set in their units and read back' '
	quilt config requests_timeout 2.5 && quilt config requests_timeout >out && echo 2.5 >expect && test_cmp expect out &&
	quilt config max_pool_connections 4 && grep -q "^max_pool_connections: 4$" "$C" &&
	quilt config multipart_chunksize 16M && quilt config multipart_chunksize >out &&
	echo 16777216 >expect && test_cmp expect out &&
	quilt config multipart_threshold 8388608 && grep -q "^multipart_threshold: 8388608$" "$C" &&
	quilt config --json | grep -q "\"requests_timeout\": 2.5"
'

test_expect_success 'out-of-range settings are refused with S3s limits' '
	test_must_fail --exit=64 quilt config multipart_chunksize 1000 2>err &&
	grep -q "^error: invalid value for '\''multipart_chunksize'\'': S3 allows 5 MiB (5242880) to 5 GiB (5368709120) bytes, not 1000$" err &&
	test_must_fail --exit=64 quilt config multipart_threshold 6G 2>err && grep -q "5 GiB" err &&
	test_must_fail --exit=64 quilt config max_pool_connections 0 2>err && grep -q "from 1 to 1000" err &&
	test_must_fail --exit=64 quilt config requests_timeout soon 2>err && grep -q "seconds" err &&
	quilt config multipart_chunksize >out && echo 16777216 >expect && test_cmp expect out
'

test_expect_success 'null drops a setting from the file' '
	quilt config multipart_threshold null && ! grep -q multipart_threshold "$C" &&
	quilt config multipart_threshold >out && echo null >expect && test_cmp expect out
'

test_expect_success QUILT3 'quilt3 reads a file holding our settings and keeps them when it writes' '
	quilt3_py -c "
import quilt3
c = quilt3.config()
assert c[\"max_pool_connections\"] == 4 and c[\"requests_timeout\"] == 2.5, dict(c)
quilt3.config(default_remote_registry=\"s3://from-quilt3\")
" &&
	grep -q "^max_pool_connections: 4$" "$C" && grep -q "^default_remote_registry: s3://from-quilt3$" "$C" &&
	quilt config default_remote_registry >out && echo s3://from-quilt3 >expect && test_cmp expect out
'

test_expect_success QUILT3 'a key quilt3 wrote that the template lacks: read, set, kept' '
	quilt3_py -c "import quilt3; quilt3.config(team_note=\"yes\")" &&
	quilt config team_note >out && echo yes >expect && test_cmp expect out &&
	quilt config team_note on && grep -q "^team_note: '\''on'\''$" "$C" &&
	quilt3_py -c "import quilt3; assert quilt3.config()[\"team_note\"] == \"on\"" &&
	test_must_fail --exit=64 quilt config never_written x 2>err && grep -q "^error: unknown configuration key" err
'

test_expect_success 'a bad setting in the file is reported when used, and can be fixed' '
	sed -i "s/^multipart_chunksize: .*/multipart_chunksize: 12/" "$C" &&
	quilt config >/dev/null &&
	test_must_fail --exit=64 quilt list --registry s3://any-bucket 2>err &&
	grep -q "^error: invalid configuration '\''multipart_chunksize'\'' in config.yml: S3 allows" err &&
	grep -q "^hint: set it again with '\''quilt config multipart_chunksize VALUE'\''" err &&
	quilt config multipart_chunksize 8M && quilt config requests_timeout null && quilt config max_pool_connections null
'

test_expect_success 'requests_timeout limits a catalog that does not answer' '
	port=$(free_port) &&
	{ "$QUILT_TEST_PYTHON" -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", int(sys.argv[1]))); s.listen(5)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
" "$port" & PIDS="$PIDS $!"; } &&
	sleep 0.5 &&
	quilt config requests_timeout 1 &&
	start=$(date +%s) &&
	test_must_fail --exit=1 quilt config "http://127.0.0.1:$port" 2>err &&
	test $(( $(date +%s) - start )) -lt 10 &&
	grep -q "^error: cannot reach the catalog at '\''http://127.0.0.1:$port/config.json'\'': timed out" err &&
	quilt config requests_timeout null && cleanup
'

test_expect_success S3 'requests_timeout limits a stalled S3 request; the environment wins over it' '
	s3_make_bucket stall-$$ &&
	rm -f proxy.port &&
	{ setsid "$QUILT_TEST_PYTHON" "$REPO/scripts/faultproxy.py" --upstream "$QUILT_TEST_S3_ENDPOINT" \
		--port-file proxy.port --schedule stall:1:0:4 --lifetime 120 </dev/null 2>proxy.err & PIDS="$PIDS $!"; } &&
	for _ in $(seq 100); do [ -s proxy.port ] && break; sleep 0.05; done &&
	quilt config requests_timeout 1 &&
	test_must_fail --exit=1 env AWS_ENDPOINT_URL=http://127.0.0.1:$(cat proxy.port) QUILT_S3_MAX_ATTEMPTS=1 \
		quilt list --registry s3://stall-$$ 2>err &&
	grep -qi "timed out" err &&
	AWS_ENDPOINT_URL=http://127.0.0.1:$(cat proxy.port) QUILT_S3_MAX_ATTEMPTS=1 QUILT_S3_STALL_TIMEOUT=30 \
		quilt list --registry s3://stall-$$ &&
	quilt config requests_timeout null && cleanup
'

test_expect_success S3 'multipart_threshold and multipart_chunksize shape a manifest upload; the environment wins' '
	s3_make_bucket parts-$$ &&
	"$QUILT_TEST_PYTHON" -c "import json; json.dump({\"blob\": \"x\" * 6000000}, open(\"big.json\", \"w\"))" &&
	echo a >a.txt &&
	quilt config multipart_threshold 5M && quilt config multipart_chunksize 5M &&
	QUILT_MANIFEST_MAX_RECORD_SIZE=20000000 quilt build ns/big --set a.txt=a.txt --meta @big.json \
		--registry s3://parts-$$ -v 2>err >/dev/null &&
	test "$(grep -c "^verbose: S3 UploadPart " err)" = 2 &&
	QUILT_MULTIPART_THRESHOLD=64M QUILT_MANIFEST_MAX_RECORD_SIZE=20000000 quilt build ns/big2 --set a.txt=a.txt \
		--meta @big.json --registry s3://parts-$$ -v 2>err >/dev/null &&
	! grep -q "UploadPart" err &&
	quilt config multipart_threshold null && quilt config multipart_chunksize null
'

# (`~`, `null` and `Null` are null by the command line's own reading, as documented; the compat tests cover them.)
test_expect_success QUILT3 'YAML 1.1 look-alikes stay strings for PyYAML, and the bytes are yaml.dump'\''s' '
	for v in yes No on OFF y n 2001-12-14 "2001-12-14 21:59:43.10 -5" 1.5 1e3 .5 0o17 0x1F 1_000 1:20 \
		= "<<" "a: b" "#x" "@x" "%x" "!x" "*x" "&x" "?" "x #y" " lead" "trail " "é" "it'\''s" "\"q\"" "[a]" "{a: 1}"; do
		quilt config region -- "$v" 2>/dev/null || quilt config region "$v" || return 1
		quilt3_py - "$C" "$v" <<-\EOF || return 1
		import sys, yaml
		path, value = sys.argv[1:]
		text = open(path).read()
		data = yaml.safe_load(text)
		assert data["region"] == value, (value, data["region"], text)
		assert yaml.dump(data) == text, (value, yaml.dump(data), text)
		EOF
	done
'

test_done
