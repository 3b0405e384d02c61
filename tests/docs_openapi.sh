#!/bin/bash
# docs/openapi.yaml is valid YAML and an OpenAPI 3 document whose every path
# item holds at least one operation (a bad merge once left a path's body
# inside another path, and the file no longer parsed).
set -eu
SRC=${LT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
python3 - "$SRC/docs/openapi.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
bad = []
if not str(doc.get("openapi", "")).startswith("3."):
    bad.append("the openapi field is not 3.x")
ops = {"get", "put", "post", "patch", "delete", "head", "options"}
for path, item in doc.get("paths", {}).items():
    if not path.startswith("/"):
        bad.append("path %r does not start with /" % path)
    if not isinstance(item, dict) or not ops & set(item):
        bad.append("path %s has no operation" % path)
for b in bad:
    print("FAIL:", b)
print("docs_openapi: %d paths, %d problems" % (len(doc.get("paths", {})), len(bad)))
sys.exit(1 if bad else 0)
PY
