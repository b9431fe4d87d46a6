#!/usr/bin/python3
"""tests/live/k8s_pod.py MANIFEST BUNDLE NODE - the DaemonSet's pod as an OCI
bundle for runc, the way a kubelet and containerd would run it on this node:
the container's args with $(NODE_NAME) expanded from the downward API, its
capabilities (bounding = effective = permitted = the added set), hostPID (no
pid namespace), a read-only root, no seccomp and no AppArmor (Unconfined),
no_new_privs off (allowPrivilegeEscalation unset), hostPath volumes bound with
their readOnly flags, emptyDirs as tmpfs, ConfigMaps as directories of their
keys. The image is this machine's Debian with the cagewatch package installed:
its /usr, /bin, /sbin, /lib and /lib64 bound read-only, a copy of its /etc
(mount points are made in an image's own tree, as a runtime does).
BUNDLE/config.json must be `runc spec`'s template; it is rewritten."""
import json
import os
import shutil
import sys

import yaml

manifest, bundle, node = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
cms = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
pod = ds["spec"]["template"]["spec"]
ctr = pod["containers"][0]
env = {"NODE_NAME": node}
sc = ctr["securityContext"]

spec = json.load(open(os.path.join(bundle, "config.json")))
rootfs = os.path.join(bundle, "rootfs")
proc = spec["process"]
proc["terminal"] = False
proc["args"] = ctr["command"] + [a.replace("$(NODE_NAME)", node) for a in ctr["args"]]
proc["env"] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + [f"{k}={v}" for k, v in env.items()]
caps = ["CAP_" + c for c in sc["capabilities"]["add"]]
proc["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
proc["noNewPrivileges"] = sc.get("allowPrivilegeEscalation", True) is False
proc.pop("apparmorProfile", None)
spec["root"] = {"path": "rootfs", "readonly": bool(sc.get("readOnlyRootFilesystem"))}
lx = spec["linux"]
if pod.get("hostPID"):
    lx["namespaces"] = [n for n in lx["namespaces"] if n["type"] != "pid"]
lx.pop("seccomp", None)
lx["cgroupsPath"] = "/cagewatch-test/k8s-agent"

mounts = [m for m in spec["mounts"] if m["destination"] not in ("/sys/fs/cgroup",)]
shutil.copytree("/etc", os.path.join(rootfs, "etc"), symlinks=True, dirs_exist_ok=True)
for d in ("usr", "bin", "sbin", "lib", "lib64"):
    if os.path.exists("/" + d):
        mounts.append({"destination": "/" + d, "type": "bind", "source": "/" + d,
                       "options": ["rbind", "ro"]})
vols = {v["name"]: v for v in pod["volumes"]}
for vm in ctr["volumeMounts"]:
    v = vols[vm["name"]]
    ro = ["ro"] if vm.get("readOnly") else ["rw"]
    if "hostPath" in v:
        src = v["hostPath"]["path"]
        if v["hostPath"].get("type") == "DirectoryOrCreate":
            os.makedirs(src, exist_ok=True)
        m = {"type": "bind", "source": src, "options": ["rbind"] + ro}
    elif "emptyDir" in v:
        m = {"type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=16m"]}
    elif "configMap" in v:
        src = os.path.join(bundle, "cm-" + vm["name"])
        os.makedirs(src, exist_ok=True)
        for k, text in cms[v["configMap"]["name"]].items():
            with open(os.path.join(src, k), "w") as f:
                f.write(text)
        m = {"type": "bind", "source": src, "options": ["rbind"] + ro}
    m["destination"] = vm["mountPath"]
    os.makedirs(rootfs + vm["mountPath"], exist_ok=True)
    mounts.append(m)
spec["mounts"] = mounts
for d in ("usr", "etc", "bin", "sbin", "lib", "lib64", "proc", "sys", "dev", "tmp"):
    os.makedirs(os.path.join(rootfs, d), exist_ok=True)
json.dump(spec, open(os.path.join(bundle, "config.json"), "w"), indent=1)
# the probes, for the test to run with `runc exec`
probes = {k: ctr[k]["exec"]["command"] for k in ("startupProbe", "readinessProbe", "livenessProbe")}
json.dump(probes, open(os.path.join(bundle, "probes.json"), "w"))
