#!/usr/bin/env bash
# fta-firewall: the bots' firewall. A bot runs client code; it needs the exchange's API and DNS,
# nothing else. These rules keep every bot away from the host (any port, through its network's
# gateway or any other address of the host) and from private, link-local (the cloud's instance
# metadata service, 169.254.169.254), multicast and reserved addresses, and let everything else
# (the public exchange APIs) through. docs/firewall.md says exactly what is filtered and what is not.
# install.sh installs it as /usr/local/lib/fta/fta-firewall; fta-firewall.service (systemd) runs
# `apply` after Docker starts, and `sudo fta-admin firewall ...` and `fta-admin doctor` run it too.
#
# Usage: fta-firewall [--config FILE] COMMAND
#   apply      puts the rules in place (atomically; the same rules again change nothing)
#   remove     removes every rule and chain of fta's
#   check      0: the rules are exactly in place, before any other rule that could let a bot's
#              packet through, and every fta network's bridge is covered; 1: not so (each problem
#              on a line of its own); 3: the firewall is off in the configuration (the reason)
#   show       the rules apply would put in place (iptables-save lines)
#   present    0 when any chain of fta's exists (what --uninstall asks)
#   validate LIST    0 when LIST is a valid FTA_BOT_EGRESS_ALLOW (else the problem, status 2)
#
# The configuration (default /etc/fta/firewall.conf, written by install.sh) is KEY=VALUE lines,
# parsed, never sourced:
#   FTA_FIREWALL=on|off, FTA_FIREWALL_OFF_REASON   off only where the engine is shared (--docker-host)
#   FTA_BOT_BRIDGES        the bots' bridge interfaces, iptables patterns ("br-+": every
#                          user-defined bridge of fta's own engine)
#   FTA_BOT_EGRESS_ALLOW   extra destinations bots may reach although they are private (see below)
#   FTA_ENV_FILE           fta's env file: the hosts of its FTA_EXCHANGE_OVERRIDE URLs (an exchange
#                          stand-in, e.g. the VM test's simulator at 10.0.2.2) are allowed too. Read
#                          here until fta can say which destinations its configuration needs.
#   DOCKER_HOST            the engine whose fta networks `check` looks at
# FTA_BOT_EGRESS_ALLOW: entries separated by commas or blanks, each ADDRESS[/BITS][:PORT] or
# NAME[:PORT] (a name is resolved when the rules are applied; a port means TCP to that port only).
# Entries never open the host itself, and none may cover the metadata address.
set -euo pipefail

CONFIG=/etc/fta/firewall.conf
readonly INPUT_CHAIN=FTA-BOTS-INPUT EGRESS_CHAIN=FTA-BOTS-EGRESS IPV6_CHAIN=FTA-BOTS-IPV6
# Where bots may not go (beyond the host itself): "this network", the private ranges (RFC 1918),
# carrier-grade NAT (RFC 6598, also used inside clouds), link-local (the metadata service and its
# neighbours), multicast and the reserved range with the broadcast address.
readonly BLOCKED_RANGES=(0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 169.254.0.0/16 172.16.0.0/12 192.168.0.0/16 224.0.0.0/4 240.0.0.0/4)
readonly METADATA_ADDRESS=169.254.169.254
# REJECT rather than a silent DROP: a bot that tries fails at once instead of waiting for a timeout.
readonly REJECT4="-j REJECT --reject-with icmp-admin-prohibited"
# Where Docker's embedded DNS server (127.0.0.11 in each container) sends its questions: the
# daemon's "dns" setting, else the host's resolvers. Those queries leave from the container's own
# network namespace, through the bridge, so port 53 of these servers stays open to bots.
RESOLV_FILES=(/etc/resolv.conf /run/systemd/resolve/resolv.conf)
DAEMON_JSON=/etc/docker/daemon.json

die() { printf 'fta-firewall: %s\n' "$*" >&2; exit 2; }

# conf KEY: KEY's value in the configuration file (one pair of quotes stripped, as fta-run does).
conf() { kv "$CONFIG" "$1"; }
kv() {
    local file=$1 key=$2 line value=""
    local re="^[[:space:]]*(export[[:space:]]+)?${key}=(.*)$"
    [ -r "$file" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ $re ]]; then
            value=${BASH_REMATCH[2]}
            value=${value%$'\r'}
            if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
        fi
    done <"$file"
    printf '%s' "$value"
}

# ---------------------------------------------------------------------------------------------
# IPv4 arithmetic (bash integers): is an address or a range inside the blocked ranges?
# ---------------------------------------------------------------------------------------------
is_ipv4() {
    [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
    local o
    for o in "${BASH_REMATCH[@]:1}"; do ((10#$o <= 255)) || return 1; done
}
ip_int() { local IFS=.; local -a o; read -r -a o <<<"$1"; echo $(((10#${o[0]} << 24) | (10#${o[1]} << 16) | (10#${o[2]} << 8) | 10#${o[3]})); }
int_ip() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }
mask() { echo $(((0xffffffff << (32 - $1)) & 0xffffffff)); }
# normal_cidr A.B.C.D/N: the range as iptables prints it (network address, /32 for one address).
normal_cidr() { local ip=${1%/*} bits=${1#*/}; echo "$(int_ip $(($(ip_int "$ip") & $(mask "$bits"))))/$bits"; }
# overlaps CIDR CIDR: the two ranges share an address.
overlaps() {
    local a=${1%/*} abits=${1#*/} b=${2%/*} bbits=${2#*/} bits
    bits=$((abits < bbits ? abits : bbits))
    (($(($(ip_int "$a") & $(mask "$bits"))) == $(($(ip_int "$b") & $(mask "$bits")))))
}
is_blocked() {
    local range
    for range in "${BLOCKED_RANGES[@]}"; do overlaps "$1" "$range" && return 0; done
    return 1
}

# ---------------------------------------------------------------------------------------------
# What bots may reach although it is blocked: the allow-list, the exchange override, DNS.
# ---------------------------------------------------------------------------------------------
# allow_entry ENTRY: prints "CIDR PORT" (PORT empty: any protocol and port) for each address of
# ENTRY that lies in a blocked range (the rest is allowed anyway). Fails on a malformed entry.
allow_entry() {
    local entry=$1 host port="" bits="" ip addresses=()
    if [[ $entry =~ ^(.+):([0-9]{1,5})$ ]]; then host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
        ((10#$port >= 1 && 10#$port <= 65535)) || { echo "$entry: port out of range" >&2; return 1; }
        port=$((10#$port))
    else host=$entry; fi
    if [[ $host =~ ^([0-9.]+)/([0-9]{1,2})$ ]]; then host=${BASH_REMATCH[1]} bits=$((10#${BASH_REMATCH[2]}))
        ((bits <= 32)) || { echo "$entry: prefix length over 32" >&2; return 1; }
    fi
    if is_ipv4 "$host"; then
        addresses=("$(normal_cidr "$host/${bits:-32}")")
    elif [ -z "$bits" ] && [[ ! $host =~ ^[0-9.]+$ ]] && [[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]]; then
        # Resolved now: the rules hold addresses. A name that does not resolve opens nothing.
        while read -r ip _; do
            if is_ipv4 "$ip"; then addresses+=("$ip/32"); fi
        done < <(getent ahostsv4 "$host" 2>/dev/null | sort -u -k1,1)
        if ((${#addresses[@]} == 0)); then echo "$entry: $host does not resolve (allowed nothing)" >&2; fi
    else
        echo "$entry: not an IPv4 address, range or host name (ADDRESS[/BITS][:PORT] or NAME[:PORT])" >&2
        return 1
    fi
    for ip in "${addresses[@]}"; do
        if overlaps "$ip" "$METADATA_ADDRESS/32"; then
            echo "$entry: would open the instance metadata service ($METADATA_ADDRESS) to bots; refused" >&2
            return 1
        fi
        if is_blocked "$ip"; then echo "$ip $port"; fi
    done
}

# allow_list LIST: allow_entry for every entry of LIST (commas or blanks between entries).
allow_list() {
    local entries entry failed=0
    read -r -a entries <<<"${1//,/ }"
    for entry in "${entries[@]}"; do allow_entry "$entry" || failed=1; done
    return "$failed"
}

# override_destinations: "CIDR PORT" for the hosts of the http(s)/ws(s) URLs in fta's
# FTA_EXCHANGE_OVERRIDE (a JSON text; a user:password@ in a URL is dropped, never printed).
override_destinations() {
    local env_file rest scheme authority host port
    env_file=$(conf FTA_ENV_FILE)
    rest=$(kv "${env_file:-/etc/fta/fta.env}" FTA_EXCHANGE_OVERRIDE)
    # JSON may escape "/" as "\/".
    rest=${rest//\\\//\/}
    local re='([A-Za-z][A-Za-z0-9+.-]*)://([^/"'\''[:space:]?#\\]+)(.*)$'
    while [[ $rest =~ $re ]]; do
        scheme=${BASH_REMATCH[1],,} authority=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
        authority=${authority##*@}
        case $scheme in http | ws) port=80 ;; https | wss) port=443 ;; *) continue ;; esac
        host=$authority
        if [[ $authority =~ ^([^:]+):([0-9]{1,5})$ ]]; then host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}; fi
        # An IPv6 literal: bots have no IPv6 at all.
        [[ $host == \[* ]] && continue
        allow_entry "$host:$port" || true
    done
}

# nameservers: the IPv4 resolvers Docker's embedded DNS forwards to that lie in a blocked range.
nameservers() {
    local file line ns
    {
        for file in "${RESOLV_FILES[@]}"; do
            [ -r "$file" ] || continue
            while read -r line; do
                if [[ $line =~ ^[[:space:]]*nameserver[[:space:]]+([0-9.]+)[[:space:]]*$ ]]; then echo "${BASH_REMATCH[1]}"; fi
            done <"$file"
        done
        if [ -r "$DAEMON_JSON" ] && command -v jq >/dev/null; then jq -r '.dns[]? // empty' "$DAEMON_JSON" 2>/dev/null || true; fi
    } | while read -r ns; do
        # A loopback resolver is never asked from a container (Docker replaces it).
        if is_ipv4 "$ns" && [[ $ns != 127.* ]] && is_blocked "$ns/32"; then echo "$ns"; fi
    done | awk '!seen[$0]++'
}

# ---------------------------------------------------------------------------------------------
# The rules, in the form `iptables -S` prints them (check compares them line by line).
# ---------------------------------------------------------------------------------------------
bridges() { local b; b=$(conf FTA_BOT_BRIDGES); echo "${b:-br-+}"; }

# The chains' contents, IPv4 (filter table).
input_rules() {
    # Answers to the host's own connections: the portal's requests to the bots' APIs.
    echo "-A $INPUT_CHAIN -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
    echo "-A $INPUT_CHAIN $REJECT4"
}
egress_rules() {
    local ns cidr port range
    # The rest of a connection these rules let open (and its ICMP errors).
    echo "-A $EGRESS_CHAIN -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
    for ns in $(nameservers); do
        echo "-A $EGRESS_CHAIN -d $ns/32 -p udp -m udp --dport 53 -j RETURN"
        echo "-A $EGRESS_CHAIN -d $ns/32 -p tcp -m tcp --dport 53 -j RETURN"
    done
    { allow_list "$(conf FTA_BOT_EGRESS_ALLOW)" 2>/dev/null || true
      override_destinations 2>/dev/null; } | awk '!seen[$0]++' | while read -r cidr port; do
        if [ -n "$port" ]; then echo "-A $EGRESS_CHAIN -d $cidr -p tcp -m tcp --dport $port -j RETURN"
        else echo "-A $EGRESS_CHAIN -d $cidr -j RETURN"; fi
    done
    for range in "${BLOCKED_RANGES[@]}"; do echo "-A $EGRESS_CHAIN -d $range $REJECT4"; done
}
ipv6_rules() {
    # Bots get no IPv6 (Docker disables it on fta's IPv4-only networks); should a container have
    # it anyway, its link-local address would reach every host service listening on [::].
    echo "-A $IPV6_CHAIN -j DROP"
}
# The jumps into them, each the first rules of its chain.
input_jumps() { local b; for b in $(bridges); do echo "-A INPUT -i $b -j $INPUT_CHAIN"; done; }
egress_jumps() { local b; for b in $(bridges); do echo "-A DOCKER-USER -i $b -j $EGRESS_CHAIN"; done; }
ipv6_jumps() { local b; for b in $(bridges); do echo "-A PREROUTING -i $b -j $IPV6_CHAIN"; done; }

have_ipv6() { [ -e /proc/net/if_inet6 ] && command -v ip6tables >/dev/null; }
ipt() { iptables -w "$@"; }
ip6t() { ip6tables -w "$@"; }

# rules_of TOOL TABLE CHAIN: the chain's rules as `-S` prints them (nothing when it is missing).
rules_of() { "$1" -w -t "$2" -S "$3" 2>/dev/null | grep '^-A ' || true; }
chain_exists() { "$1" -w -t "$2" -S "$3" >/dev/null 2>&1; }
# references TOOL TABLE CHAIN...: every rule of the table that jumps to one of the chains.
references() {
    local tool=$1 table=$2 line chain
    shift 2
    "$tool" -w -t "$table" -S 2>/dev/null | while IFS= read -r line; do
        for chain in "$@"; do
            if [[ $line == "-A "*" -j $chain" ]]; then echo "$line"; fi
        done
    done
}

# A restore script (iptables-restore --noflush: one atomic transaction per table) that drops every
# jump to the chains, refills them (declaring a chain empties it) and puts the jumps back on top.
restore_script() {
    local tool=$1 table=$2 chain_rules=$3 jumps=$4
    shift 4
    local chain line rule
    echo "*$table"
    for chain in "$@"; do echo ":$chain - [0:0]"; done
    printf '%s\n' "$chain_rules"
    references "$tool" "$table" "$@" | sed 's/^-A /-D /'
    # Inserted at position 1 in reverse, so that they end up first and in their order.
    while IFS= read -r line; do
        rule=${line#-A }
        echo "-I ${rule%% *} 1 ${rule#* }"
    done < <(tac <<<"$jumps")
    echo COMMIT
}

apply() {
    command -v iptables >/dev/null || die "iptables is not installed"
    [ "$(conf FTA_FIREWALL)" != off ] || { echo "fta-firewall: off in $CONFIG ($(conf FTA_FIREWALL_OFF_REASON)); nothing applied"; return 0; }
    validate_config
    # Docker creates DOCKER-USER (and the FORWARD jump to it) when it starts; created here first,
    # Docker keeps it and its rules.
    chain_exists iptables filter DOCKER-USER || ipt -N DOCKER-USER
    local v4_rules
    v4_rules=$(input_rules; egress_rules)
    restore_script iptables filter "$v4_rules" "$(input_jumps; egress_jumps)" "$INPUT_CHAIN" "$EGRESS_CHAIN" | iptables-restore -w --noflush
    if have_ipv6; then
        restore_script ip6tables raw "$(ipv6_rules)" "$(ipv6_jumps)" "$IPV6_CHAIN" | ip6tables-restore -w --noflush
    fi
    echo "fta-firewall: applied to the bridges $(bridges): the host closed, ${#BLOCKED_RANGES[@]} ranges closed, $(($(grep -c -- "^-A $EGRESS_CHAIN .* -j RETURN$" <<<"$v4_rules") - 1)) exception(s) (DNS, allow-list)"
}

remove() {
    command -v iptables >/dev/null || return 0
    local spec tool table chains chain
    for spec in "iptables filter $INPUT_CHAIN $EGRESS_CHAIN" "ip6tables raw $IPV6_CHAIN"; do
        read -r tool table chains <<<"$spec"
        command -v "$tool" >/dev/null || continue
        local present=()
        for chain in $chains; do chain_exists "$tool" "$table" "$chain" && present+=("$chain"); done
        ((${#present[@]})) || continue
        {
            echo "*$table"
            references "$tool" "$table" "${present[@]}" | sed 's/^-A /-D /'
            for chain in "${present[@]}"; do echo "-F $chain"; echo "-X $chain"; done
            echo COMMIT
        } | "$tool-restore" -w --noflush
    done
    echo "fta-firewall: removed"
}

present() {
    chain_exists iptables filter "$INPUT_CHAIN" || chain_exists iptables filter "$EGRESS_CHAIN" ||
        { have_ipv6 && chain_exists ip6tables raw "$IPV6_CHAIN"; }
}

# ---------------------------------------------------------------------------------------------
# check: every finding on a line; exit 1 when there is any.
# ---------------------------------------------------------------------------------------------
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }

# expect_chain TOOL TABLE CHAIN EXPECTED: the chain holds exactly EXPECTED.
expect_chain() {
    local tool=$1 table=$2 chain=$3 expected=$4 actual line before=${#PROBLEMS[@]}
    if ! chain_exists "$tool" "$table" "$chain"; then problem "$tool: chain $chain is missing"; return; fi
    actual=$(rules_of "$tool" "$table" "$chain")
    [ "$actual" = "$expected" ] && return
    while IFS= read -r line; do
        grep -qxF -- "$line" <<<"$actual" || problem "$tool: rule missing: $line"
    done <<<"$expected"
    while IFS= read -r line; do
        if [ -n "$line" ] && ! grep -qxF -- "$line" <<<"$expected"; then problem "$tool: rule not fta's: $line"; fi
    done <<<"$actual"
    if ((${#PROBLEMS[@]} == before)); then problem "$tool: the rules of $chain are out of order"; fi
}
# expect_first TOOL TABLE CHAIN JUMPS: the chain starts with JUMPS (the bots' packets meet fta's
# rules before any other rule of the chain, which might accept them).
expect_first() {
    local tool=$1 table=$2 chain=$3 jumps=$4 actual line before=${#PROBLEMS[@]}
    actual=$(rules_of "$tool" "$table" "$chain")
    [ "$(head -n "$(wc -l <<<"$jumps")" <<<"$actual")" = "$jumps" ] && return
    while IFS= read -r line; do
        grep -qxF -- "$line" <<<"$actual" || problem "$tool: jump missing: $line"
    done <<<"$jumps"
    if ((${#PROBLEMS[@]} == before)); then
        problem "$tool: $chain has other rules before fta's jumps (another firewall inserted them?): they see the bots' packets first"
    fi
}
# Docker keeps the jump to DOCKER-USER at the top of FORWARD, above its own ACCEPT rules; only
# its isolation chains (which drop, never accept) may come first.
expect_forward_to_docker_user() {
    local line
    while IFS= read -r line; do
        [ "$line" = "-A FORWARD -j DOCKER-USER" ] && return
        [[ $line =~ ^-A\ FORWARD\ -j\ DOCKER-ISOLATION-STAGE-[0-9]+$ ]] && continue
        problem "iptables: FORWARD has '$line' before its jump to DOCKER-USER: a bot's packet can be accepted before fta's rules"
        return
    done < <(rules_of iptables filter FORWARD)
    problem "iptables: FORWARD does not jump to DOCKER-USER (Docker not started, or run with iptables disabled): egress is not filtered"
}
# Every network fta made (label fta.managed=true) has its bridge among FTA_BOT_BRIDGES.
expect_networks_covered() {
    local listed ids name id bridge pattern covered count=0
    command -v docker >/dev/null || { problem "docker: the CLI is missing; cannot see fta's networks"; return; }
    if ! listed=$(DOCKER_HOST=$(conf DOCKER_HOST) docker network ls -q --filter label=fta.managed=true 2>/dev/null); then
        problem "docker: cannot list fta's networks at $(conf DOCKER_HOST)"; return
    fi
    mapfile -t ids <<<"$listed"
    [ -n "$listed" ] || return 0
    while read -r name id bridge; do
        count=$((count + 1))
        [[ -z $bridge || $bridge == "<no value>" ]] && bridge=br-${id:0:12}
        covered=0
        for pattern in $(bridges); do
            if [[ $pattern == *+ ]]; then [[ $bridge == "${pattern%+}"* ]] && covered=1
            elif [ "$bridge" = "$pattern" ]; then covered=1; fi
        done
        ((covered)) || problem "network $name (bridge $bridge) is not among the filtered bridges ($(bridges))"
    done < <(DOCKER_HOST=$(conf DOCKER_HOST) docker network inspect \
        --format '{{.Name}} {{.Id}} {{index .Options "com.docker.network.bridge.name"}}' "${ids[@]}" 2>/dev/null)
    NETWORKS=$count
}
NETWORKS=0

on_ec2() { grep -qs '^Amazon EC2' /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/board_vendor || grep -qs '^ec2' /sys/hypervisor/uuid; }

check() {
    if [ ! -r "$CONFIG" ]; then echo "no $CONFIG: the bots' firewall was never installed"; return 1; fi
    if [ "$(conf FTA_FIREWALL)" = off ]; then echo "off: $(conf FTA_FIREWALL_OFF_REASON)"; return 3; fi
    command -v iptables >/dev/null || { echo "iptables is not installed"; return 1; }
    if ! iptables -w -S INPUT >/dev/null 2>&1; then echo "cannot read the firewall (run as root)"; return 1; fi
    local bad
    if ! bad=$(validate_config 2>&1); then echo "$bad"; return 1; fi
    expect_chain iptables filter "$INPUT_CHAIN" "$(input_rules)"
    expect_chain iptables filter "$EGRESS_CHAIN" "$(egress_rules)"
    expect_first iptables filter INPUT "$(input_jumps)"
    if chain_exists iptables filter DOCKER-USER; then expect_first iptables filter DOCKER-USER "$(egress_jumps)"
    else problem "iptables: chain DOCKER-USER is missing"; fi
    expect_forward_to_docker_user
    if have_ipv6; then
        expect_chain ip6tables raw "$IPV6_CHAIN" "$(ipv6_rules)"
        expect_first ip6tables raw PREROUTING "$(ipv6_jumps)"
    fi
    expect_networks_covered
    if ((${#PROBLEMS[@]})); then
        printf '%s\n' "${#PROBLEMS[@]} problem(s) in the bots' firewall" "${PROBLEMS[@]}"
        return 1
    fi
    local allowed
    allowed=$(egress_rules | grep -c -- ' -j RETURN$')
    echo "bridges $(bridges) ($NETWORKS fta network(s)): host closed, private/link-local/multicast closed, $((allowed - 1)) allowed exception(s) (DNS, allow-list)$(on_ec2 && echo '; on EC2 keep IMDSv2 required with a hop limit of 1')"
}

show() {
    echo "# iptables (filter)"
    input_jumps; egress_jumps; input_rules; egress_rules
    if have_ipv6; then echo "# ip6tables (raw)"; ipv6_jumps; ipv6_rules; fi
}

# The configuration's own values are well formed (a bad allow-list stops apply before any change).
validate_config() {
    local b
    for b in $(bridges); do
        [[ $b =~ ^[A-Za-z0-9_.-]{1,15}\+?$ ]] || die "FTA_BOT_BRIDGES: not an interface name or prefix+: $b"
    done
    allow_list "$(conf FTA_BOT_EGRESS_ALLOW)" >/dev/null || die "FTA_BOT_EGRESS_ALLOW in $CONFIG is not valid (above)"
}

main() {
    if [ "${1:-}" = --config ]; then CONFIG=${2:?--config needs a file}; shift 2; fi
    case ${1:-} in
        apply) apply ;;
        remove) remove ;;
        check) check ;;
        show) show ;;
        present) present ;;
        validate) [ $# -eq 2 ] || die "usage: fta-firewall validate LIST"; allow_list "$2" >/dev/null || exit 2 ;;
        *) echo "usage: fta-firewall [--config FILE] apply|remove|check|show|present|validate LIST" >&2; exit 2 ;;
    esac
}

main "$@"
