#!/usr/bin/env python3
# Compare the spans an OTLP receiver decoded with ehttp's own JSON spans (-j) of the
# same input: every span arrives once, with its ids, kind, name, times, status and
# semantic-convention attributes; span names are "METHOD route" with the routes and
# counts of `ehttp -j replay --stats` (STATS_JSON, optional).
#   otlp_compare.py EHTTP_JSONL RECEIVED_JSONL [STATS_JSON]
import json
import os
import sys


# --service-name EXE=NAME as the test gave it (OTLP_SERVICE_MAP="EXE=NAME ...")
SERVICE_MAP = dict(m.split("=", 1) for m in os.environ.get("OTLP_SERVICE_MAP", "").split())


def service_of(w, g):
    # the executable's name, or the command name when the path is unknown, unless mapped
    exe = os.path.basename(g["resource"].get("process.executable.path") or w["comm"])
    return SERVICE_MAP.get(exe, SERVICE_MAP.get(w["comm"], exe))


def main():
    want = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    got = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    by_id = {}
    for g in got:
        if g["spanId"] in by_id:
            sys.exit(f"span {g['spanId']} arrived twice")
        by_id[g["spanId"]] = g
    if len(got) != len(want):
        sys.exit(f"{len(want)} spans replayed, {len(got)} received")
    bad = 0
    for w in want:
        g = by_id.get(w["span_id"])
        if g is None:
            sys.exit(f"span {w['span_id']} never arrived")
        a = g["attributes"]
        path, _, query = w["target"].partition("?")
        checks = {
            "trace id": (g["traceId"], w.get("trace_id") or g["traceId"]),
            "parent": (g["parentSpanId"], w.get("parent_span_id", "")),
            "kind": (g["kind"], {"server": 2, "client": 3}[w["role"]]),
            "name's method": (g["name"].split(" ", 1)[0], w["method"]),
            "start": (int(g["start"]), w["start_ns"]),
            "end": (int(g["end"]), w["end_ns"]),
            "method": (a.get("http.request.method"), w["method"]),
            "status": (a.get("http.response.status_code"), str(w["status"]) if w["status"] else None),
            "version": (a.get("network.protocol.version"), w["version"].replace("HTTP/", "")),
            "request size": (a.get("http.request.size"), str(w["req_bytes"])),
            "pid": (g["resource"].get("process.pid"), str(w["pid"])),
            "service": (g["resource"].get("service.name"), service_of(w, g)),
        }
        if w["role"] == "server":
            checks["url.path"] = (a.get("url.path"), path)
            checks["url.query"] = (a.get("url.query"), query or None)
            checks["server.port"] = (a.get("server.port"), w["local"].rsplit(":", 1)[1])
            checks["client.address"] = (a.get("client.address"), w["remote"].rsplit(":", 1)[0].strip("[]"))
        err = w["status"] >= 500 or (w["role"] == "client" and w["status"] >= 400) or not w["status"]
        checks["status code"] = (g["status"]["code"], 2 if err else 0)
        for what, (seen, expected) in checks.items():
            if seen != expected:
                bad += 1
                if bad <= 10:
                    print(f"span {w['span_id']}: {what}: expected {expected!r}, got {seen!r}", file=sys.stderr)
    if len(sys.argv) > 3:
        stats = json.load(open(sys.argv[3]))
        want_names = sorted((f"{r['method']} {r['route']}", r["count"]) for r in stats["routes"])
        names = {}
        for g in got:
            names[g["name"]] = names.get(g["name"], 0) + 1
        if sorted(names.items()) != want_names:
            bad += 1
            print(f"span names: expected {want_names}, got {sorted(names.items())}", file=sys.stderr)
    if bad:
        sys.exit(f"{bad} mismatches")
    print(f"ok: {len(want)} spans arrived once each with their ids, kind, name, times, status and attributes")


main()
