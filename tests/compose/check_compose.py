#!/usr/bin/env python3
"""compose/ checked without a Docker engine, against the binaries it runs.

    tests/compose/check_compose.py BIN_DIR

For every service built from the anipipe image: each flag of its command exists in that
(sub)command's --help, every REQUIRED option is given (by flag or by its documented environment
variable), and every ANIPIPE_* variable it sets is one the binary documents. Also: the ports
Prometheus scrapes are the ones the services listen on; each broker's KAFKA_LOG_DIRS is its
volume; the cluster has three voters and the catalog's cluster profile is applied; group workers
lease their instance ids in a volume of their own under a fixed host name (static membership);
every ${VAR:?} the file requires is in .env.example and nothing there is unused; the MongoDB
sink deletes on tombstones and is registered by a one-shot service; mounted files exist.
Prints one line per problem and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPOSE = os.path.join(ROOT, "compose")
problems = []


def problem(text):
    problems.append(text)
    print("compose: " + text)


class Help:
    """One (sub)command's --help as CLI11 prints it: options, which take a value, which are
    required, their environment variables, and the subcommands."""

    def __init__(self, argv):
        out = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30).stdout
        self.options, self.takes_value, self.required, self.env = set(), set(), set(), {}
        self.subcommands = set()
        section = None
        for line in out.splitlines():
            if line.startswith("Options:"):
                section = "options"
            elif line.startswith("Subcommands:"):
                section = "subcommands"
            elif section == "options" and re.match(r"^  -", line):
                m = re.match(r"^  ((?:-\w,)?--[\w-]+(?:,--[\w-]+)*)(.*)$", line)
                if not m:
                    continue
                names = [n for n in m.group(1).split(",") if n.startswith("--")]
                rest = m.group(2)
                self.options.update(names)
                if re.match(r"^ +[A-Z]", rest) and not rest.strip().startswith("Excludes"):
                    self.takes_value.update(names)
                if "REQUIRED" in rest:
                    self.required.update(names)
                env = re.search(r"\(Env:([A-Z0-9_]+)\)", rest)
                if env:
                    for n in names:
                        self.env[n] = env.group(1)
            elif section == "subcommands" and re.match(r"^  \w", line):
                self.subcommands.add(line.split()[0])


def expand(value, env_file):
    """${VAR:-default} and ${VAR:?message} with the values of .env.example."""
    def sub(m):
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        got = env_file.get(name, "")
        if op == ":-":
            return got or arg
        return got or "<required " + name + ">"
    return re.sub(r"\$\{([A-Z0-9_]+)(:-|:\?)?([^}]*)\}", sub, str(value))


def check_command(service, argv, environment, bin_dir):
    binary = os.path.join(bin_dir, argv[0])
    if not os.access(binary, os.X_OK):
        problem(f"{service}: {argv[0]} is not an anipipe binary")
        return set()
    path = [binary]
    levels = [Help(path)]
    documented_env = set(levels[0].env.values())
    given = set()
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            name = arg.split("=", 1)[0]
            # CLI11 lets an option of a parent command follow a subcommand.
            owner = next((h for h in reversed(levels) if name in h.options), None)
            if owner is None:
                problem(f"{service}: {' '.join(path)} has no option {name}")
            else:
                given.add(name)
                if name in owner.takes_value and "=" not in arg:
                    i += 1
            i += 1
            continue
        if arg in levels[-1].subcommands:
            path.append(arg)
            levels.append(Help([binary] + path[1:]))
            documented_env |= set(levels[-1].env.values())
            i += 1
            continue
        problem(f"{service}: {' '.join(os.path.basename(p) for p in path)}: unexpected argument {arg!r}")
        i += 1
    leaf = levels[-1]
    for name in sorted(leaf.required):
        env = leaf.env.get(name)
        if name not in given and not (env and environment.get(env)):
            problem(f"{service}: {name} is required by {' '.join(os.path.basename(p) for p in path)} and not given"
                    + (f" (nor {env})" if env else ""))
    for var in environment:
        if var.startswith("ANIPIPE_") and var not in documented_env:
            problem(f"{service}: {var} is not an environment variable {argv[0]} documents")
    return documented_env


def port_of(address):
    return int(str(address).rsplit(":", 1)[1])


def main():
    bin_dir = sys.argv[1]
    with open(os.path.join(COMPOSE, "docker-compose.yml")) as f:
        raw = f.read()
    doc = yaml.safe_load(raw)
    env_file = {}
    with open(os.path.join(COMPOSE, ".env.example")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env_file[k] = v
    services = doc["services"]

    # .env.example: every variable the file uses is there, and only those.
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", raw))
    for name in sorted(used - set(env_file)):
        problem(f".env.example lacks {name}, which docker-compose.yml uses")
    for name in sorted(set(env_file) - used):
        problem(f".env.example has {name}, which docker-compose.yml never uses")

    # Every service of ours: its command against the binary.
    listening = {}
    for name, svc in services.items():
        if svc.get("image") != "anipipe:latest":
            continue
        environment = {k: expand(v, env_file) for k, v in (svc.get("environment") or {}).items()}
        argv = [expand(a, env_file) for a in svc["command"]]
        check_command(name, argv, environment, bin_dir)
        if "ANIPIPE_METRICS_ADDR" in environment:
            listening[name] = port_of(environment["ANIPIPE_METRICS_ADDR"])
        if "ANIPIPE_EDGE_LISTEN" in environment:
            listening[name] = port_of(environment["ANIPIPE_EDGE_LISTEN"])
        if "--listen" in argv:
            listening[name] = port_of(argv[argv.index("--listen") + 1])

    # ingest without a source has nothing to do and exits.
    ingest_env = services["ingest"].get("environment") or {}
    ingest_cmd = " ".join(services["ingest"]["command"])
    if not any(ingest_env.get(v) for v in ("ANIPIPE_INGEST_V1_BASE_URL", "ANIPIPE_INGEST_V3_URL", "ANIPIPE_INGEST_REPLAY")) and \
            not any(f in ingest_cmd for f in ("--v1-base-url", "--v3-url", "--replay")):
        problem("ingest: no source (--v1-base-url, --v3-url or --replay): it would exit at once")

    # Group workers: a fixed host name and an instance folder in a volume of their own.
    for name in ("sync", "cache", "notify"):
        svc = services[name]
        folder = (svc.get("environment") or {}).get("ANIPIPE_INSTANCE_DIR")
        mounts = [v.split(":")[1] for v in svc.get("volumes", []) if isinstance(v, str)]
        if svc.get("hostname") != name:
            problem(f"{name}: hostname must be '{name}' so its instance ids are {name}-<slot>")
        if not folder or folder not in mounts:
            problem(f"{name}: ANIPIPE_INSTANCE_DIR must be a mounted volume (the slots outlive a container)")

    # Prometheus scrapes what listens.
    with open(os.path.join(COMPOSE, "prometheus", "prometheus.yml")) as f:
        prom = yaml.safe_load(f)
    for job in prom["scrape_configs"]:
        targets = []
        for sd in job.get("dns_sd_configs", []):
            targets += [(n, sd["port"]) for n in sd["names"]]
        for sc in job.get("static_configs", []):
            targets += [(t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in sc["targets"]]
        for host, port in targets:
            if host not in services:
                problem(f"prometheus job {job['job_name']}: no service {host}")
            elif listening.get(host) != port:
                problem(f"prometheus job {job['job_name']}: scrapes {host}:{port}, but {host} listens on {listening.get(host)}")
    mounted = [v for v in services["prometheus"]["volumes"] if v.startswith("./prometheus:")]
    if not mounted or not os.path.exists(os.path.join(COMPOSE, "prometheus", "prometheus.yml")):
        problem("prometheus: compose/prometheus is not mounted at /etc/prometheus")

    # The brokers: three voters, each with its log dirs on its own volume.
    brokers = [n for n in services if n.startswith("kafka-")]
    if len(brokers) != 3:
        problem(f"{len(brokers)} Kafka brokers, not 3")
    for name in brokers:
        env = services[name]["environment"]
        data = env.get("KAFKA_LOG_DIRS")
        mounts = [v.split(":")[1] for v in services[name].get("volumes", [])]
        if not data or data not in mounts:
            problem(f"{name}: KAFKA_LOG_DIRS ({data}) is not its volume ({mounts}): the image would drop the data")
        voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(",")
        if len(voters) != 3:
            problem(f"{name}: {len(voters)} controller voters, not 3")
        if str(env.get("KAFKA_MIN_INSYNC_REPLICAS")) != "2" or str(env.get("KAFKA_DEFAULT_REPLICATION_FACTOR")) != "3":
            problem(f"{name}: not replication 3 with min.insync.replicas 2")
        if not env.get("CLUSTER_ID"):
            problem(f"{name}: no CLUSTER_ID: the image cannot format its storage")
    topics_cmd = services["topics"]["command"]
    if "--profile" not in topics_cmd or topics_cmd[topics_cmd.index("--profile") + 1] not in ("cluster", "auto"):
        problem("topics: the catalog's cluster profile is not applied")

    # The MongoDB sink: registered by a one-shot service, deletes on tombstones.
    import json
    with open(os.path.join(COMPOSE, "mongo-sink.json")) as f:
        sink = json.load(f)
    if sink.get("delete.on.null.values") != "true":
        problem("mongo-sink.json: tombstones are not applied as deletes (delete.on.null.values)")
    if "KeyStrategy" not in sink.get("document.id.strategy", ""):
        problem("mongo-sink.json: deletes need a key-based document.id.strategy")
    init = services.get("connect-init", {})
    if "/mongo-sink.json" not in " ".join(init.get("command", [])):
        problem("no one-shot service registers mongo-sink.json with Connect")

    # Files the services mount exist.
    for name, svc in services.items():
        for v in svc.get("volumes", []):
            if isinstance(v, str) and v.startswith("./") and not os.path.exists(os.path.join(COMPOSE, v.split(":")[0])):
                problem(f"{name}: mounts {v.split(':')[0]}, which does not exist")

    # The image is portable unless asked: no -march baked in.
    with open(os.path.join(COMPOSE, "Dockerfile")) as f:
        dockerfile = f.read()
    if "-march=" in dockerfile or not re.search(r"ARG ANIPIPE_ARCH=\s*$", dockerfile, re.M):
        problem("Dockerfile: the image must build for any x86-64 and arm64 (ANIPIPE_ARCH empty unless given)")

    print(f"compose: {len(services)} services checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
