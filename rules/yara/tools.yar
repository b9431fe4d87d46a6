/*
 * tools.yar - cagewatch's shipped content signatures for known container
 * escape, Kubernetes attack and local reconnaissance tools. Compiled once at
 * start-up and embedded in the binary; users add rules in their own directory.
 *
 * Every rule carries meta:
 *   tool       catalogue tool id ("cdk"); names the tool in findings
 *   tool_name  display name, used when the tool is not in the catalogue
 *   category   catalogue category id: container_escape |
 *              kubernetes_attack_tool | local_recon
 *   confidence 0..100; when several rules match a file the highest wins
 *
 * External variables every rule may read: basename, path, argv (arguments
 * joined by spaces) and sha256 (lowercase hex of the scanned file). The
 * shipped rules look at content only, so their verdict is cached per file;
 * a rule that reads basename/path/argv is evaluated per exec instead.
 *
 * Markers: Go module paths survive renaming and symbol stripping (build info
 * and pclntab keep them); banners and usage text identify scripts.
 */

rule cdk
{
	meta:
		tool = "cdk"
		tool_name = "CDK"
		category = "container_escape"
		confidence = 90
		description = "CDK (Container DucK) penetration toolkit"
	strings:
		$mod = "github.com/cdk-team/CDK"
		$banner1 = "CDK (Container DucK)"
		$banner2 = "cloudnative k8s/docker/serverless penetration toolkit"
		$art1 = "cdk_cgexp_"
		$art2 = "cdk_cgres_"
		$art3 = "cdk_mknod_result"
		$art4 = "# CDK auto exploit via"
	condition:
		$mod or any of ($banner*) or 2 of ($art*)
}

rule deepce
{
	meta:
		tool = "deepce"
		tool_name = "deepce"
		category = "container_escape"
		confidence = 90
		description = "deepce Docker enumeration and escape script"
	strings:
		$t1 = "(DEEPCE)"
		$t2 = "by stealthcopter"
		$t3 = "stealthcopter.github.io/deepce"
		$f1 = "exploitPrivileged"
		$f2 = "exploitDockerSock"
		$f3 = "exploitSysModule"
		$f4 = "dockerSockCheck"
	condition:
		any of ($t*) or 3 of ($f*)
}

rule amicontained
{
	meta:
		tool = "amicontained"
		tool_name = "amicontained"
		category = "local_recon"
		confidence = 85
		description = "amicontained container introspection tool"
	strings:
		$mod = "github.com/genuinetools/amicontained"
		$s1 = "A container introspection tool"
		$s2 = "Looking for Docker.sock"
		$s3 = "jessfraz/bpfd/proc"
	condition:
		$mod or $s1 or ($s2 and $s3)
}

rule botb
{
	meta:
		tool = "botb"
		tool_name = "BOtB"
		category = "container_escape"
		confidence = 90
		description = "BOtB (Break Out The Box)"
	strings:
		$mod = "github.com/brompwnie/botb"
		$s1 = "Break Out The Box"
		$s2 = "Attempt to exploit RuncPWN"
		$s3 = "Attempt to hijack binaries on host"
		$s4 = "docker-18.09.2.tgz"
	condition:
		$mod or $s1 or 2 of ($s2, $s3, $s4)
}

rule peirates
{
	meta:
		tool = "peirates"
		tool_name = "Peirates"
		category = "kubernetes_attack_tool"
		confidence = 90
		description = "Peirates Kubernetes penetration tool"
	strings:
		$mod = "github.com/inguardians/peirates"
		$s1 = "/tmp/peirates.history"
	condition:
		any of them
}

rule kdigger
{
	meta:
		tool = "kdigger"
		tool_name = "kdigger"
		category = "local_recon"
		confidence = 85
		description = "kdigger Kubernetes context discovery tool"
	strings:
		$mod = "github.com/quarkslab/kdigger"
		$s1 = "kdigger helps you dig"
		$s2 = "kdigger is an extensible CLI tool"
	condition:
		any of them
}

rule ctrsploit
{
	meta:
		tool = "ctrsploit"
		tool_name = "ctrsploit"
		category = "container_escape"
		confidence = 90
		description = "ctrsploit container penetration toolkit"
	strings:
		$mod = "github.com/ctrsploit/ctrsploit"
		$s1 = "A penetration toolkit for container environment"
		$spec = "github.com/ctrsploit/sploit-spec"
		$res = "===========start of result=============="
	condition:
		$mod or $s1 or ($spec and $res)
}

rule traitor
{
	meta:
		tool = "traitor"
		tool_name = "traitor"
		category = "container_escape"
		confidence = 85
		description = "traitor privilege escalation framework (docker.sock escape)"
	strings:
		$mod = "github.com/liamg/traitor"
		$s1 = "Traitor is a privilege escalation framework for Linux"
	condition:
		any of them
}

rule kubeletctl
{
	meta:
		tool = "kubeletctl"
		tool_name = "kubeletctl"
		category = "kubernetes_attack_tool"
		confidence = 85
		description = "kubeletctl kubelet API client"
	strings:
		$mod = "kubeletctl/cmd/"
		$s1 = "implements kuebelt's API"
		$s2 = "kubeletctl is command line utitly"
	condition:
		any of them
}

rule keyctl_unmask
{
	meta:
		tool = "keyctl-unmask"
		tool_name = "keyctl-unmask"
		category = "container_escape"
		confidence = 85
		description = "keyctl-unmask kernel keyring extraction"
	strings:
		$mod = "github.com/antitree/keyctl-unmask"
		$s1 = "even if /proc/keys are masked"
	condition:
		any of them
}

rule container_escape_check
{
	meta:
		tool = "container-escape-check"
		tool_name = "container-escape-check"
		category = "container_escape"
		confidence = 85
		description = "container-escape-check script"
	strings:
		$s1 = "Containers Escape Check v"
		$s2 = "teamssix/container-escape-check"
		$s3 = "Author:  TeamsSix"
	condition:
		any of them
}

rule linpeas
{
	meta:
		tool = "linpeas"
		tool_name = "linPEAS"
		category = "local_recon"
		confidence = 80
		specificity = 1 /* linpeas.sh embeds other tools' markers (amicontained's module path) */
		description = "linPEAS privilege escalation enumeration script"
	strings:
		$s1 = "Do you like PEASS?"
		$s2 = "by github.com/PEASS-ng"
		$s3 = "cgroup_3628d4"
		$s4 = "Container & breakout enumeration"
	condition:
		any of them
}

rule cve_2019_5736_poc
{
	meta:
		tool = "cve-2019-5736-poc"
		tool_name = "CVE-2019-5736 runc overwrite PoC"
		category = "container_escape"
		confidence = 85
		description = "runc /proc/self/exe overwrite (CVE-2019-5736) exploit"
	strings:
		$bang = "#!/proc/self/exe"
		$s1 = "Overwritten /bin/sh successfully"
		$s2 = "[+] Found the PID:"
		$s3 = "Successfully got write handle"
		$s4 = "[+] The command executed is"
	condition: /* $bang, not $shebang: "$s*" would count it */
		($bang and any of ($s*)) or 2 of ($s*)
}

rule dirtypipe_container_breakout
{
	meta:
		tool = "dirtypipe-container-breakout"
		tool_name = "Dirty Pipe container breakout PoC"
		category = "container_escape"
		confidence = 85
		description = "Dirty Pipe (CVE-2022-0847) runc overwrite helper"
	strings:
		$bang = "#!/proc/self/exe"
		$wait = "Waiting for runC to be executed in the container"
	condition:
		$wait and $bang
}

rule cve_2022_0492_poc
{
	meta:
		tool = "cve-2022-0492"
		tool_name = "CVE-2022-0492 cgroup release_agent checker/exploit"
		category = "container_escape"
		confidence = 85
		description = "cgroup v1 release_agent escape (CVE-2022-0492) checker or exploit"
	strings:
		$s1 = ".cve-2022-0492-test"
		$s2 = "the container can abuse user namespaces to escape"
		$s3 = "Escape Success with unshare!"
		$s4 = "Testing whether CVE-2022-0492 can be exploited for container escape"
	condition:
		any of them
}

rule release_agent_escape_script
{
	meta:
		tool = "release-agent-escape"
		tool_name = "cgroup release_agent escape script"
		category = "container_escape"
		confidence = 70
		description = "host overlay upperdir discovery plus release_agent write"
	strings:
		$sed = "perdir=\\([^,]*\\).*/\\1/p"
		$ra = "release_agent"
		$nor = "notify_on_release"
	condition:
		filesize < 4MB and all of them
}

rule docker_escape_tool
{
	meta:
		tool = "docker-escape-tool"
		tool_name = "docker-escape-tool"
		category = "container_escape"
		confidence = 85
		description = "docker-escape-tool (Crystal)"
	strings:
		$s1 = "Docker Escape Tool"
		$s2 = "PercussiveElbow"
		$s3 = "/mounted_hostos"
	condition:
		2 of them
}

rule kubesploit
{
	meta:
		tool = "kubesploit"
		tool_name = "kubesploit"
		category = "container_escape"
		confidence = 80
		description = "kubesploit agent or breakout module"
	strings:
		$s1 = "/cmd_to_execute"
		$s2 = "Exploiting cGroupEscape"
		$mod = "kubesploit/"
		$merlin = "github.com/Ne0nd0g/merlin"
	condition:
		($mod and $merlin) or ($s1 and $s2)
}

rule escape_scanner
{
	meta:
		tool = "escape"
		tool_name = "escape (container escape scanner)"
		category = "container_escape"
		confidence = 85
		description = "escape container escape scanner (Go)"
	strings:
		$mod = "github.com/tristanvaquero/escape/"
	condition:
		$mod
}

rule kube_hunter
{
	meta:
		tool = "kube-hunter"
		tool_name = "kube-hunter"
		category = "kubernetes_attack_tool"
		confidence = 80
		description = "kube-hunter (Python or PyInstaller build)"
	strings:
		$mod1 = "kube_hunter.modules"
		$mod2 = "kube_hunter.core"
		$mod3 = "from kube_hunter"
	condition:
		any of them
}

rule stratus_red_team
{
	meta:
		tool = "stratus"
		tool_name = "Stratus Red Team"
		category = "kubernetes_attack_tool"
		confidence = 85
		description = "Stratus Red Team attack emulation (Go)"
	strings:
		$mod = "github.com/datadog/stratus-red-team" nocase
	condition:
		$mod
}

rule upx_packed_elf
{
	meta:
		tool = "upx-packed-elf"
		tool_name = "UPX-packed executable"
		category = "container_escape"
		confidence = 40
		description = "ELF packed with UPX (CDK ships UPX builds; packing hides other markers)"
	strings:
		$magic = "UPX!"
		$info = "This file is packed with the UPX"
	condition:
		uint32(0) == 0x464c457f and ($magic in (0..4096) or $info)
}

rule linenum
{
	meta:
		tool = "linenum"
		tool_name = "LinEnum"
		category = "local_recon"
		confidence = 80
		description = "LinEnum local enumeration script (banner, export directory, author)"
	strings:
		$banner = "Local Linux Enumeration & Privilege Escalation Script"
		$site = "www.rebootuser.com"
		$export = "LinEnum-export-"
		$author = "#@rebootuser"
	condition:
		$banner or 2 of ($site, $export, $author)
}

rule pspy
{
	meta:
		tool = "pspy"
		tool_name = "pspy"
		category = "local_recon"
		confidence = 85
		description = "pspy unprivileged process snooper (Go module path, help text)"
	strings:
		$mod = "github.com/dominicbreuker/pspy" nocase
		$help = "pspy monitors the system for file system events and new processes"
		$short = "pspy can watch your system for new processes and file system events"
	condition:
		any of them
}

rule whoc
{
	meta:
		tool = "whoc"
		tool_name = "whoc"
		category = "container_escape"
		confidence = 80
		description = "whoc container-runtime exfiltration (upload_runtime help and messages)"
	strings:
		$usage = "Usage: upload_runtime [options] <server_ip>"
		$wait = "Wait-for-exec mode for static container runtimes"
		$guess = "instead of guessing the runtime pid (which gives whoc one shot"
	condition:
		any of them
}

rule kubiscan
{
	meta:
		tool = "kubiscan"
		tool_name = "KubiScan"
		category = "kubernetes_attack_tool"
		confidence = 75
		description = "KubiScan risky-permission scanner (Python: its module names and table titles)"
	strings:
		$m1 = "engine.privleged_containers"
		$m2 = "print_all_risky_containers"
		$t1 = "|Risky Roles and ClusterRoles|"
		$t2 = "|Risky Containers|"
	condition:
		$m1 or 2 of them
}

rule kubestriker
{
	meta:
		tool = "kubestriker"
		tool_name = "kubestriker"
		category = "kubernetes_attack_tool"
		confidence = 75
		description = "kubestriker Kubernetes security scanner (Python package modules)"
	strings:
		$p1 = "from kubestriker.service_hunt import ServiceHunt"
		$p2 = "from kubestriker.service_discovery import ServiceDiscovery"
		$gear = "Gearing up Kube-Striker"
		$art = ">>-kube-striker->"
	condition:
		any of them
}

rule red_kube
{
	meta:
		tool = "red-kube"
		tool_name = "red-kube"
		category = "kubernetes_attack_tool"
		confidence = 80
		description = "red-kube kubectl-based adversary emulation (banner, tactic files)"
	strings:
		$welcome = "+++ WELCOME TO RED-KUBE +++"
		$art = "text2art(\"RED   KUBE\")"
		$tactic = "attacks/%s.json"
	condition:
		$welcome or ($art and $tactic)
}

rule go_pillage_registries
{
	meta:
		tool = "go-pillage-registries"
		tool_name = "go-pillage-registries"
		category = "kubernetes_attack_tool"
		confidence = 85
		description = "go-pillage-registries image registry pillager (Go package path)"
	strings:
		$mod = "go-pillage-registries/pkg/pillage"
	condition:
		$mod
}

rule kubetcd
{
	meta:
		tool = "kubetcd"
		tool_name = "kubetcd"
		category = "kubernetes_attack_tool"
		confidence = 85
		description = "kubetcd etcd post-exploitation (Go module path)"
	strings:
		$mod = "github.com/nccgroup/kubetcd/" nocase
	condition:
		$mod
}

rule k8spider
{
	meta:
		tool = "k8spider"
		tool_name = "k8spider"
		category = "kubernetes_attack_tool"
		confidence = 85
		description = "k8spider in-cluster DNS service discovery (Go module path)"
	strings:
		$mod = "github.com/esonhugh/k8spider/" nocase
	condition:
		$mod
}
