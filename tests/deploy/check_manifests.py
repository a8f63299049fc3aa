#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Parses and checks every deployment file the project ships (no container engine or cluster
needed): deploy/compose.yaml, deploy/kubernetes/*.yaml, Dockerfile, .dockerignore, the systemd
unit and /etc/default file of the .deb (debian/), and docs/deployment.md's references. The files
are built and run elsewhere: scripts/build-deb.sh --check (the .deb, the unit with
systemd-analyze), scripts/build-image.sh (the Dockerfile with buildah and podman).

Usage: tests/deploy/check_manifests.py        prints one line per check, then 'N passed, N failed'
"""
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}{': ' + detail if detail else ''}")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


# The option variables, from the --help text in docs/configuration.md.
OPTION_VARS = set(re.findall(r"\(Env:(MFA_MOCK_[A-Z0-9_]+)\)", read("docs/configuration.md")))
check("docs/configuration.md lists the option variables", len(OPTION_VARS) > 30, str(len(OPTION_VARS)))
# Variables of the project's scripts (not of mfa-mock itself) that the docs may name.
SCRIPT_VARS = {"MFA_MOCK_DEBIAN_MIRROR", "MFA_MOCK_CACHE_DIR", "MFA_MOCK_KEEP_ROOTFS",
               "MFA_MOCK_PODMAN_RUNTIME", "MFA_MOCK_IMAGE_ULIMITS", "MFA_MOCK_QUICKSTART_TIMEOUT",
               "MFA_MOCK_TESTS_TIMEOUT"}


def known_vars(rel, text):
    # (-DMFA_MOCK_* are CMake options, not variables)
    unknown = sorted(set(re.findall(r"(?<!-D)MFA_MOCK_[A-Z0-9_]+", text)) - OPTION_VARS - SCRIPT_VARS)
    check(f"{rel}: every MFA_MOCK_* variable is an option of mfa-mock", not unknown, ", ".join(unknown))


# ---- deploy/compose.yaml ------------------------------------------------------------------
rel = "deploy/compose.yaml"
text = read(rel)
compose = yaml.safe_load(text)
known_vars(rel, text)
svc = compose.get("services", {}).get("mfa-mock", {})
check(f"{rel}: one service mfa-mock", list(compose.get("services", {})) == ["mfa-mock"])
ctx = os.path.normpath(os.path.join(ROOT, "deploy", svc.get("build", {}).get("context", "")))
check(f"{rel}: build context holds the Dockerfile",
      os.path.isfile(os.path.join(ctx, svc.get("build", {}).get("dockerfile", "Dockerfile"))), ctx)
ports = svc.get("ports", [])
check(f"{rel}: publishes 3001 and 3002 on loopback only",
      sorted(ports) == ["127.0.0.1:3001:3001", "127.0.0.1:3002:3002"], str(ports))
env = svc.get("environment", {})
check(f"{rel}: the admin token is required", ":?" in str(env.get("MFA_MOCK_ADMIN_TOKEN", "")))
vols = [v.split(":") for v in svc.get("volumes", [])]
snap = env.get("MFA_MOCK_SNAPSHOT", "")
check(f"{rel}: the snapshot file is on the volume",
      any(snap.startswith(v[1] + "/") and v[0] in (compose.get("volumes") or {}) for v in vols), snap)

# ---- deploy/kubernetes -----------------------------------------------------------------------
for name in sorted(os.listdir(os.path.join(ROOT, "deploy/kubernetes"))):
    rel = f"deploy/kubernetes/{name}"
    text = read(rel)
    known_vars(rel, text)
    docs = [d for d in yaml.safe_load_all(text) if d]
    kinds = {d["kind"]: d for d in docs}
    check(f"{rel}: a Deployment and a Service", sorted(kinds) == ["Deployment", "Service"], str(sorted(kinds)))
    dep, svc = kinds.get("Deployment", {}), kinds.get("Service", {})
    spec = dep.get("spec", {})
    check(f"{rel}: apiVersions", dep.get("apiVersion") == "apps/v1" and svc.get("apiVersion") == "v1")
    check(f"{rel}: memory store: exactly one replica, Recreate",
          spec.get("replicas") == 1 and spec.get("strategy", {}).get("type") == "Recreate")
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    check(f"{rel}: selectors match the pod labels",
          spec.get("selector", {}).get("matchLabels") == labels and svc.get("spec", {}).get("selector") == labels)
    pod = spec.get("template", {}).get("spec", {})
    (c,) = pod.get("containers", [{}])
    cports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(f"{rel}: container ports public=3001 admin=3002", cports == {"public": 3001, "admin": 3002}, str(cports))
    cenv = {e["name"]: e for e in c.get("env", [])}
    check(f"{rel}: listens on 0.0.0.0",
          cenv.get("MFA_MOCK_LISTEN", {}).get("value") == "0.0.0.0:3001"
          and cenv.get("MFA_MOCK_ADMIN_LISTEN", {}).get("value") == "0.0.0.0:3002")
    check(f"{rel}: the admin token comes from a Secret",
          "secretKeyRef" in cenv.get("MFA_MOCK_ADMIN_TOKEN", {}).get("valueFrom", {}))
    for probe in ("readinessProbe", "livenessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        check(f"{rel}: {probe} GET /healthz on the admin port",
              get.get("path") == "/healthz" and cports.get(get.get("port"), get.get("port")) == 3002, str(get))
    sc = pod.get("securityContext", {})
    check(f"{rel}: non-root, the image's uid 10001", sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001)
    csc = c.get("securityContext", {})
    check(f"{rel}: no privilege escalation, read-only root, no capabilities",
          csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem") is True
          and csc.get("capabilities", {}).get("drop") == ["ALL"])
    sports = {p["name"]: (p["port"], p["targetPort"]) for p in svc.get("spec", {}).get("ports", [])}
    check(f"{rel}: Service ports 3001/3002 to the named container ports",
          sports == {"public": (3001, "public"), "admin": (3002, "admin")}, str(sports))

# ---- Dockerfile, .dockerignore ---------------------------------------------------------------
rel = "Dockerfile"
text = read(rel)
known_vars(rel, text)
lines = re.sub(r"\\\n", " ", text).splitlines()
instr = [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if len(l.split(None, 1)) > 1 else "")
         for l in lines if l.strip() and not l.lstrip().startswith("#")]
froms = [a for i, a in instr if i == "FROM"]
check(f"{rel}: two stages, both on debian:bookworm-slim",
      len(froms) == 2 and all(f.split()[0] == "debian:bookworm-slim" for f in froms), str(froms))
final = instr[max(k for k, (i, _) in enumerate(instr) if i == "FROM"):]
get = lambda name: [a for i, a in final if i == name]
check(f"{rel}: runs as the non-root uid 10001", get("USER") == ["10001:10001"], str(get("USER")))
check(f"{rel}: HEALTHCHECK on /healthz", len(get("HEALTHCHECK")) == 1 and "/healthz" in get("HEALTHCHECK")[0])
check(f"{rel}: EXPOSE 3001 3002", get("EXPOSE") == ["3001 3002"])
envs = " ".join(get("ENV"))
check(f"{rel}: listens on 0.0.0.0", "MFA_MOCK_LISTEN=0.0.0.0:3001" in envs and "MFA_MOCK_ADMIN_LISTEN=0.0.0.0:3002" in envs)
check(f"{rel}: the run stage installs no compiler",
      not any(re.search(r"\b(g\+\+|cmake|-dev)\b", a) for i, a in final if i == "RUN"))
check(f"{rel}: no download other than apt",
      not any(re.search(r"\b(curl|wget|git clone|https?://)", a) for i, a in instr if i in ("RUN", "ADD")))
ign = read(".dockerignore").split()
check(".dockerignore: build folders and dist/ stay out of the context", "build*/" in ign and "dist/" in ign)

# ---- debian/: the unit and /etc/default/mfa-mock --------------------------------------------
rel = "debian/mfa-mock.service"
unit = {}
for l in read(rel).splitlines():
    if "=" in l and not l.startswith(("#", "[")):
        k, v = l.split("=", 1)
        unit.setdefault(k.strip(), []).append(v.strip())
for key, value in [("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                   ("StateDirectory", "mfa-mock"), ("EnvironmentFile", "-/etc/default/mfa-mock"),
                   ("NoNewPrivileges", "yes"), ("ProtectHome", "yes"), ("ExecStart", "/usr/bin/mfa-mock"),
                   ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"), ("WantedBy", "multi-user.target")]:
    check(f"{rel}: {key}={value}", unit.get(key) == [value], str(unit.get(key)))
rel = "debian/mfa-mock.default"
text = read(rel)
known_vars(rel, text)
assigned = dict(re.findall(r"^(MFA_MOCK_[A-Z0-9_]+)=(.*)$", text, re.M))
check(f"{rel}: loopback listeners by default", assigned.get("MFA_MOCK_LISTEN") == "127.0.0.1:3001"
      and assigned.get("MFA_MOCK_ADMIN_LISTEN") == "127.0.0.1:3002")
check(f"{rel}: the snapshot is in the StateDirectory",
      assigned.get("MFA_MOCK_SNAPSHOT", "").startswith("/var/lib/" + unit.get("StateDirectory", ["?"])[0] + "/"))
check(f"{rel}: no quotes (systemd and sh read it alike)", not re.search(r"^MFA_MOCK_\w+=[\"']", text, re.M))
manpages = read("debian/mfa-mock.manpages").split()
rules = read("debian/rules")
builddir = re.search(r"^BUILDDIR = (\S+)$", rules, re.M).group(1)
check("debian/mfa-mock.manpages: the help2man page of debian/rules",
      all(m in rules.replace("$(BUILDDIR)", builddir) for m in manpages), str(manpages))

# ---- docs/deployment.md ----------------------------------------------------------------------
rel = "docs/deployment.md"
text = read(rel)
known_vars(rel, text)
paths = set(re.findall(r"\b((?:deploy|debian|scripts|tests/deploy)/[\w./-]+\w)", text)) | {"Dockerfile"}
missing = sorted(p for p in paths if not os.path.exists(os.path.join(ROOT, p)))
check(f"{rel}: every file it names exists", not missing, ", ".join(missing))
runs = [l for l in text.splitlines() if re.match(r"\s*(docker|podman) run ", l)]
check(f"{rel}: docker run examples", len(runs) >= 2, str(len(runs)))
for l in runs:
    # Every run either protects the admin API or publishes it on loopback only with the opt-out.
    ok = "MFA_MOCK_ADMIN_TOKEN" in l or ("MFA_MOCK_ADMIN_INSECURE=1" in l and "-p 127.0.0.1:3002:3002" in l)
    check(f"{rel}: '{l.strip()[:60]}...' protects the admin API", ok)
for link in re.findall(r"\]\(((?!https?:)[^)#]+)", text):
    check(f"{rel}: link {link}", os.path.exists(os.path.join(ROOT, "docs", link)))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
