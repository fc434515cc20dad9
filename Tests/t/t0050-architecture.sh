#!/usr/bin/env bash
test_description='the layers of Documentation/architecture.md hold: imports, C owners and shims, file-system calls, environment, storage types'
. "$(dirname "$0")/lib.sh"

test_expect_success 'every import is a declared dependency, C modules have one owner, the diagram matches' '
	"$REPO/scripts/check-architecture" >out 2>&1 || { cat out; return 1; }
'

test_expect_success 'the check fails on a layering violation' '
	cp -R "$REPO/Sources" "$REPO/Package.swift" "$REPO/scripts" . && mkdir -p Documentation Tests &&
	cp "$REPO/Documentation/architecture.md" Documentation/ && cp -R "$REPO"/Tests/Quilt* Tests/ &&
	printf "import QuiltAWS\n" >>Sources/QuiltCommands/Porcelain/List.swift &&
	printf "let x = getenv(\"HOME\")\n" >>Sources/QuiltFormat/JSON/JSONValue.swift &&
	printf "@testable import QuiltRegistry\n" >>Tests/QuiltFormatTests/JSONTests.swift &&
	printf "#include <curl/curl.h>\n" >>Sources/CZlibShims/include/CZlibShims.h &&
	printf "let fd = open(\"/etc/hosts\", O_RDONLY)\nlet m = FileManager.default\n" >>Sources/QuiltAWS/S3/S3Crypto.swift &&
	test_must_fail scripts/check-architecture >out &&
	grep -q "List.swift: imports QuiltAWS" out &&
	grep -q "JSONValue.swift: reads the environment" out &&
	grep -q "JSONTests.swift: imports QuiltRegistry, which QuiltFormatTests does not declare" out &&
	grep -q "Sources/CZlibShims: includes <curl/curl.h>, which is not CZlib.s" out &&
	grep -q "S3Crypto.swift:[0-9]*: calls the file system (open) outside QuiltSupport.s file layer" out &&
	grep -q "S3Crypto.swift:[0-9]*: calls the file system (FileManager)" out
'

test_done
