#!/usr/bin/env bash
# The deployment files (DESIGN §13, deploy/README.md) are true to the binary:
#   - deploy/config/*.properties are what deploy/config/make-examples.sh makes from the key
#     tables now, list every key, and pass `--check-config`; a bad value fails it, naming the key;
#   - the systemd units pass `systemd-analyze verify` (binary paths pointed at this build);
#   - the Kubernetes manifests parse, probe /health on the configured HTTP ports, carry the
#     Prometheus scrape annotations, and --set only keys the binary knows;
#   - deploy/Containerfile installs a package for every shared library the binary links;
#   - the Grafana dashboard names only families docs/metrics.md lists.
# What is not run here (no container engine, no Kubernetes cluster): deploy/README.md.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
D=$SLUICE_SRC/deploy
PY=/usr/bin/python3
cd "$T_TMP"

bash "$D/config/make-examples.sh" "$S" gen 2>gen.err
check "make-examples.sh runs" test $? -eq 0
for f in controller sidecar sidecar-standalone; do
  check "deploy/config/$f.properties is what make-examples.sh makes from the binary now" \
    cmp -s "gen/$f.properties" "$D/config/$f.properties"
done
every_key() { # every_key PROCESS FILE: each key of --help-config is in FILE (set or commented)
  "$S" "$1" --help-config --format markdown | sed -n 's/^| `\([^`]*\)`.*/\1/p' >keys.txt
  [ -s keys.txt ] || return 1
  while read -r k; do
    k=${k%\*}
    grep -qE "^#?${k//./\\.}(<property>)? =" "$2" || { echo "missing $k in $2"; return 1; }
  done <keys.txt
}
check "the controller example lists every controller key" every_key controller "$D/config/controller.properties"
check "the sidecar examples list every sidecar key" \
  bash -c "$(declare -f every_key); S=$S every_key sidecar '$D/config/sidecar.properties' && S=$S every_key sidecar '$D/config/sidecar-standalone.properties'"
check "controller.properties passes --check-config" \
  "$S" controller --config "$D/config/controller.properties" --check-config
check "sidecar.properties passes --check-config" "$S" sidecar --config "$D/config/sidecar.properties" --check-config
check "sidecar-standalone.properties passes --check-config (with the example table)" \
  "$S" sidecar --config "$D/config/sidecar-standalone.properties" --check-config \
  --set table.config="$D/examples/events_table.json" --set table.schema="$D/examples/events_schema.json"
"$S" controller --config "$D/config/controller.properties" --set completion.hold.time=soon --check-config >bad.out 2>&1
rc=$?
check "--check-config of a bad value: exit 1, naming the key" bash -c "test $rc -eq 1 && grep -q completion.hold.time bad.out"

# systemd: the units as installed, with the binary and zk-start.sh where this build has them
command -v systemd-analyze >/dev/null || { not_ok "systemd-analyze is not installed (deploy/install-deps.sh)"; finish; exit 1; }
mkdir -p units
for u in "$D"/systemd/*.service; do
  sed -e "s|/usr/local/bin/sluice|$S|g" -e "s|/usr/local/lib/sluice/zk-start.sh|$D/zk-start.sh|g" \
    -e "s|/etc/sluice/|$D/config/|g" "$u" >"units/$(basename "$u")"
done
(cd units && systemd-analyze verify --man=no ./*.service) >verify.out 2>&1
rc=$?
[ $rc -eq 0 ] || cat verify.out
check "systemd-analyze verify passes for every unit (exit $rc, no warning)" \
  bash -c "test $rc -eq 0 && ! test -s verify.out"
check "... there are units for the controller, the sidecar and ZooKeeper" \
  bash -c "ls units | sort | tr '\n' ' ' | grep -qx 'sluice-controller.service sluice-sidecar.service sluice-zookeeper.service '"
for p in controller sidecar; do
  pre=$(sed -n 's/^ExecStartPre=//p' "units/sluice-$p.service")
  check "sluice-$p.service's ExecStartPre (--check-config) passes on the example config" bash -c "$pre"
done

# Kubernetes
"$S" controller --help-config --format markdown | sed -n 's/^| `\([^`]*\)`.*/\1/p' >ctl.keys
"$S" sidecar --help-config --format markdown | sed -n 's/^| `\([^`]*\)`.*/\1/p' >sc.keys
$PY - "$D/k8s" ctl.keys sc.keys >k8s.out 2>&1 <<'PYK'
import glob, re, sys, yaml
kdir, ctl_keys, sc_keys = sys.argv[1], set(open(sys.argv[2]).read().split()), set(open(sys.argv[3]).read().split())
known = {"controller": ctl_keys, "sidecar": sc_keys}
docs = [d for f in sorted(glob.glob(kdir + "/*.yaml")) for d in yaml.safe_load_all(open(f)) if d]
assert {d["kind"] for d in docs} >= {"ConfigMap", "StatefulSet", "Service"}, [d["kind"] for d in docs]
conf = {}
for d in docs:
    if d["kind"] == "ConfigMap":
        for name, text in d["data"].items():
            kv = dict(re.findall(r"^\s*([a-z][\w.]*)\s*=\s*(.*?)\s*$", text, re.M))
            conf[name] = kv
            proc = "controller" if name.startswith("controller") else "sidecar"
            for k in kv:
                assert k in known[proc] or any(p.endswith("*") and k.startswith(p[:-1]) for p in known[proc]), (name, k)
n = 0
for d in docs:
    if d["kind"] != "StatefulSet":
        continue
    pod = d["spec"]["template"]
    ann = pod["metadata"].get("annotations", {})
    assert ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/path") == "/metrics", ann
    for c in pod["spec"]["containers"]:
        args = c.get("args") or []
        if not args or args[0] not in ("controller", "sidecar"):
            continue
        n += 1
        proc = args[0]
        port = int(conf[f"{proc}.properties"]["http.port"])
        tls = "http.tls.cert" in conf[f"{proc}.properties"] or any(a.startswith("http.tls.cert=") for a in args)
        for probe in ("readinessProbe", "livenessProbe"):
            g = c[probe]["httpGet"]
            assert g["path"] == "/health" and g["port"] == port, (c["name"], probe, g, port)
            assert g.get("scheme", "HTTP") == ("HTTPS" if tls else "HTTP"), (c["name"], probe, g, tls)
        assert ann.get("prometheus.io/scheme", "http") == ("https" if tls else "http"), ann
        assert int(ann["prometheus.io/port"]) == port, ann
        assert [p["containerPort"] for p in c["ports"]] == [port], c["ports"]
        for i, a in enumerate(args):
            if a == "--set":
                k = args[i + 1].split("=", 1)[0]
                assert k in known[proc], (c["name"], k)
assert n == 2, n
print("ok", n)
PYK
rc=$?
[ $rc -eq 0 ] || cat k8s.out
check "the Kubernetes manifests parse, probe /health on the configured ports (HTTPS where they serve it), carry Prometheus annotations, set only known keys" \
  test $rc -eq 0

# the Grafana dashboard: every family its expressions name is one docs/metrics.md lists
$PY - "$D/grafana/sluice-dashboard.json" "$SLUICE_SRC/docs/metrics.md" >graf.out 2>&1 <<'PYG'
import json, re, sys
dash = json.load(open(sys.argv[1]))
doc = set(re.findall(r"^\| `(sluice_[a-z_]+)`", open(sys.argv[2]).read(), re.M))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
assert len(exprs) >= 10, exprs
used = set()
for e in exprs:
    for name in re.findall(r"sluice_[a-z_]+", e):
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and name[: -len(suf)] in doc:
                name = name[: -len(suf)]
        used.add(name)
missing = sorted(used - doc)
assert not missing, missing
print(len(exprs), "expressions,", len(used), "families")
PYG
rc=$?
[ $rc -eq 0 ] || cat graf.out
check "deploy/grafana/sluice-dashboard.json parses and names only documented metric families" test $rc -eq 0

# the container file: a package for every library the binary links
readelf -d "$S" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >needed.txt
missing=""
while read -r lib; do
  path=$(ldd "$S" | awk -v l="$lib" '$1 == l {print $3}')
  [ -n "$path" ] || continue
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
  case "$pkg" in libc6 | "") continue ;; esac # in every Debian image
  grep -qw "$pkg" "$D/Containerfile" || missing="$missing $pkg"
done <needed.txt
check "deploy/Containerfile installs every package the binary's libraries come from (missing:${missing:- none})" \
  test -z "$missing"
finish
