#!/usr/bin/env bash
# deploy/local/kafka.sh - run a real single-node Apache Kafka broker (KRaft
# mode, combined broker+controller) on this machine, for development and tests.
#
#   deploy/local/kafka.sh start [--fresh]   start (idempotent); last stdout line = bootstrap address
#   deploy/local/kafka.sh stop              SIGTERM, wait up to 30 s, then SIGKILL
#   deploy/local/kafka.sh restart [--fresh]
#   deploy/local/kafka.sh status            exit 0 if running, 3 if stopped
#   deploy/local/kafka.sh logs [tail args]  tail -F the broker log
#   deploy/local/kafka.sh path              print the classpath dir (fetching the jars if needed)
#
#   BOOTSTRAP=$(deploy/local/kafka.sh start)   # -> 127.0.0.1:9092
#   KAFKA_SECURITY=sasl_ssl deploy/local/kafka.sh start   # SASL/SCRAM over TLS, see below
#
# No Kafka tarball is needed: the broker's jars come from Maven Central via
# `mvn dependency:copy-dependencies` (org.apache.kafka:kafka_2.13 plus a log4j2
# backend) into a cache dir outside the repo, fetched once and then reused.
# Main classes: kafka.Kafka (broker) and kafka.tools.StorageTool (KRaft storage
# formatting; it lives in the kafka_2.13 core jar in 3.9 and 4.x alike, so the
# separate kafka-tools artifact is not needed - its 4.4.0 jar is not even on
# Maven Central, only the pom).
#
# Kafka version: the default is the newest release verified against this
# repo's client stack (faust-streaming 0.15.3, aiokafka 0.14.0,
# kafka-python 3.0.12) on OpenJDK 17:
#   4.4.0  (newest kafka_2.13 on Maven Central; the default) - all checks pass:
#          kafka-python: KafkaAdminClient.create_topics, KafkaProducer,
#            KafkaConsumer with a group + commit;
#          aiokafka: idempotent producer, group consumer + commit, transactional
#            producer (commit, abort, send_offsets_to_transaction) read back by a
#            read_committed consumer;
#          faust: `app.py worker` with memory:// store and a Table, both
#            at_least_once and exactly_once, counted every message, committed
#            its offsets, and after a restart recovered the table from the
#            changelog and kept counting.
#          Kafka 4.x dropped old protocol versions (KIP-896); these client
#          versions negotiate newer ones, so nothing had to step back.
#   3.9.1  (last 3.x) - the same checks pass; usable via KAFKA_VERSION=3.9.1.
#   Note: faust creates its internal topics (changelog, __assignor-__leader,
#   repartition) itself, but not the source topics of its agents: create them
#   (or produce to them, relying on auto-creation) before starting a worker,
#   else it logs "Ignoring missing topic" and does not consume them.
#
# Environment:
#   KAFKA_VERSION          Kafka release to fetch/run (default: see above)
#   KAFKA_PORT             client (PLAINTEXT) port, default 9092
#   KAFKA_CONTROLLER_PORT  KRaft controller port, default KAFKA_PORT+1000
#                          (KAFKA_PORT-1000 if that would exceed 65535)
#   KAFKA_HOST             address to bind and advertise, default 127.0.0.1
#   KAFKA_HOME             an installed Kafka distribution: use $KAFKA_HOME/libs/*
#                          instead of fetching jars (its bin/ scripts are not used)
#   RISKSTREAM_CACHE_DIR   jar cache, default ${XDG_CACHE_HOME:-$HOME/.cache}/riskstream/kafka-$KAFKA_VERSION
#   RISKSTREAM_KAFKA_DIR   broker state dir (config, data/, kafka.log, kafka.pid),
#                          default ${XDG_CACHE_HOME:-$HOME/.cache}/riskstream/broker-$KAFKA_PORT
#   KAFKA_RESET=1          wipe the data dir before starting (same as start --fresh);
#                          a broker already running from the state dir is stopped first
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx1g"
#   KAFKA_OPTS             extra JVM options
#   KAFKA_EXTRA_CONFIG     extra server.properties lines (newline separated), appended last
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to serve requests, default 90
#   KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL, default 30
#   JAVA_HOME              use $JAVA_HOME/bin/java instead of java from PATH
#   KAFKA_SECURITY         plaintext (default) or sasl_ssl: the client listener speaks
#                          SASL_SSL with SCRAM-SHA-512 only. The TLS material is made
#                          with openssl on the first start in $STATE_DIR/tls (ca.pem is
#                          the CA clients trust); the SCRAM users are written when the
#                          storage is formatted, so a change needs a fresh start.
#   KAFKA_SASL_USERS       sasl_ssl: "name:password" pairs, space separated, that may log
#                          in (default "riskstream:riskstream-secret"); the broker's own
#                          user (broker:$KAFKA_BROKER_PASSWORD) is added to them
#   KAFKA_BROKER_PASSWORD  sasl_ssl: password of the broker's own user, default random
#                          at the first start, kept in $STATE_DIR/tls/broker-password
#   KAFKA_SUPER_USERS      sasl_ssl: names (space separated) of KAFKA_SASL_USERS that the
#                          authorizer lets do anything, e.g. the one that applies the ACLs
#                          (`riskstream acls apply`); default none. The broker's own user
#                          is always one.
#
# In sasl_ssl mode the broker authorizes every request (KRaft's StandardAuthorizer,
# allow.everyone.if.no.acl.found=false): a user may do only what an ACL grants it, so
# apply riskstream's ACLs (`riskstream acls apply`, docs/security.md) before its
# components connect. The controller listener (127.0.0.1 only) then speaks TLS with
# client certificates: only a holder of a certificate of the state dir's CA gets in.
#
# Broker settings that matter to the clients: single-node replication factors
# (offsets/transaction-state topics RF 1 and min ISR 1, otherwise consumer
# groups and aiokafka/faust transactions never become available),
# group.initial.rebalance.delay.ms=0 (faust workers join without the default
# 3 s delay) and auto.create.topics.enable=true (faust creates its own
# changelog/assignor topics and also works with auto-creation off - tested -
# but plain producers in tests may rely on it). offsets/transaction-state
# topics get 1 partition instead of 50: faster first group join and restarts.
set -euo pipefail

readonly DEFAULT_KAFKA_VERSION=4.4.0
KAFKA_VERSION="${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}"
SCALA_BINARY_VERSION="${KAFKA_SCALA_VERSION:-2.13}"
LOG4J_VERSION="${KAFKA_LOG4J_VERSION:-2.25.5}"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
KAFKA_EXTRA_CONFIG="${KAFKA_EXTRA_CONFIG:-}"
KAFKA_RESET="${KAFKA_RESET:-0}"
KAFKA_SECURITY="${KAFKA_SECURITY:-plaintext}"
KAFKA_SASL_USERS="${KAFKA_SASL_USERS:-riskstream:riskstream-secret}"
KAFKA_SUPER_USERS="${KAFKA_SUPER_USERS:-}"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/riskstream"
CACHE_DIR="${RISKSTREAM_CACHE_DIR:-$CACHE_ROOT/kafka-$KAFKA_VERSION}"
STATE_DIR="${RISKSTREAM_KAFKA_DIR:-$CACHE_ROOT/broker-$KAFKA_PORT}"
DATA_DIR="$STATE_DIR/data"
LOG_FILE="$STATE_DIR/kafka.log"
PID_FILE="$STATE_DIR/kafka.pid"
PROPS_FILE="$STATE_DIR/server.properties"
LOG4J2_FILE="$STATE_DIR/log4j2.properties"
LOG4J1_FILE="$STATE_DIR/log4j.properties"
VERSION_FILE="$STATE_DIR/formatted-by-version"
FETCH_MARKER=".riskstream-fetch-complete"
TLS_DIR="$STATE_DIR/tls"
SCRAM_MECHANISM="SCRAM-SHA-512"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() {
    printf 'kafka.sh: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

is_port_number() { [[ "$1" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

is_port_number "$KAFKA_PORT" || die "KAFKA_PORT must be a port number, got '$KAFKA_PORT'"
if [[ -n "${KAFKA_CONTROLLER_PORT:-}" ]]; then
    CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT"
elif ((KAFKA_PORT + 1000 <= 65535)); then
    CONTROLLER_PORT=$((KAFKA_PORT + 1000))
else
    CONTROLLER_PORT=$((KAFKA_PORT - 1000))
fi
is_port_number "$CONTROLLER_PORT" || die "KAFKA_CONTROLLER_PORT must be a port number, got '$CONTROLLER_PORT'"
[[ "$CONTROLLER_PORT" != "$KAFKA_PORT" ]] || die "KAFKA_CONTROLLER_PORT must differ from KAFKA_PORT ($KAFKA_PORT)"
[[ "$KAFKA_START_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT must be a number of seconds"
[[ "$KAFKA_STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_STOP_TIMEOUT must be a number of seconds"
case "$KAFKA_SECURITY" in
plaintext) LISTENER=PLAINTEXT CONTROLLER_PROTOCOL=PLAINTEXT ;;
sasl_ssl) LISTENER=SASL_SSL CONTROLLER_PROTOCOL=SSL ;;
*) die "KAFKA_SECURITY must be plaintext or sasl_ssl, got '$KAFKA_SECURITY'" ;;
esac
ADDRESS="$KAFKA_HOST:$KAFKA_PORT"

# ---------------------------------------------------------------- prerequisites

JAVA=""
find_java() {
    [[ -z "$JAVA" ]] || return 0
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        JAVA="$JAVA_HOME/bin/java"
    elif command -v java >/dev/null 2>&1; then
        JAVA="$(command -v java)"
    else
        die "java not found: install a JDK 17+ (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    fi
    local line major
    line="$("$JAVA" -version 2>&1 | head -n 1)"
    major="$(sed -E -n 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/p' <<<"$line")"
    # Java 8 and older report "1.x"
    if [[ "$major" == "1 "* ]]; then major="${major#1 }"; else major="${major%% *}"; fi
    if [[ "$major" =~ ^[0-9]+$ ]]; then
        local needed=11
        [[ "${EFFECTIVE_VERSION%%.*}" =~ ^[0-9]+$ ]] && ((${EFFECTIVE_VERSION%%.*} >= 4)) && needed=17
        ((major >= needed)) || die "Kafka $EFFECTIVE_VERSION needs Java $needed+, but $JAVA is Java $major: install a JDK 17+ (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    else
        log "warning: could not tell the Java version from: $line"
    fi
}

# Where the jars come from: $KAFKA_HOME/libs or the Maven-fetched cache.
if [[ -n "${KAFKA_HOME:-}" ]]; then
    LIBS_DIR="$KAFKA_HOME/libs"
    EFFECTIVE_VERSION="$(
        shopt -s nullglob
        for jar in "$LIBS_DIR"/kafka_2.1[0-9]-*.jar; do
            jar="${jar##*/kafka_2.1[0-9]-}"
            [[ "$jar" == *-* ]] || { echo "${jar%.jar}" && break; }
        done
    )"
    EFFECTIVE_VERSION="${EFFECTIVE_VERSION:-unknown}"
else
    LIBS_DIR="$CACHE_DIR/libs"
    EFFECTIVE_VERSION="$KAFKA_VERSION"
fi

have_libs() {
    compgen -G "$LIBS_DIR/kafka_2.1[0-9]-*.jar" >/dev/null
}

write_pom() {
    cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by riskstream deploy/local/kafka.sh: the runtime classpath of an Apache Kafka broker -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.riskstream</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- broker (kafka.Kafka) and storage tool (kafka.tools.StorageTool); pulls kafka-server, -raft, -metadata, -clients... -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA_BINARY_VERSION</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- logging backend: Kafka logs through slf4j 1.7; route it to log4j2 (as the official distribution does) -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <!-- Kafka 3.x still calls the log4j 1 API in places (e.g. its Log4jController MBean) -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
}

# Fetch the broker jars into $CACHE_DIR/libs once; later runs only check the marker.
ensure_jars() {
    if [[ -n "${KAFKA_HOME:-}" ]]; then
        have_libs || die "KAFKA_HOME=$KAFKA_HOME does not look like a Kafka distribution (no $LIBS_DIR/kafka_2.1x-*.jar)"
        return 0
    fi
    if [[ -f "$CACHE_DIR/$FETCH_MARKER" ]] && have_libs; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 ||
        die "mvn not found; it fetches the Kafka jars from Maven Central (apt-get install maven), or point KAFKA_HOME at an installed Kafka distribution"
    mkdir -p "$CACHE_DIR"
    # Serialize concurrent first runs sharing the cache.
    if command -v flock >/dev/null 2>&1; then
        exec 8>"$CACHE_DIR/.fetch.lock"
        flock -w 900 8 || die "timed out waiting for another fetch into $CACHE_DIR"
        if [[ -f "$CACHE_DIR/$FETCH_MARKER" ]] && have_libs; then
            exec 8>&-
            return 0
        fi
    fi
    log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (first run only)..."
    local tmp
    tmp="$(mktemp -d "$CACHE_DIR/.fetch.XXXXXX")"
    write_pom "$tmp/pom.xml"
    if ! mvn -B -q -U -Dstyle.color=never -f "$tmp/pom.xml" \
        "$DEPENDENCY_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1; then
        # the first error says what could not be resolved; strip Maven's colour codes
        sed 's/\x1b\[[0-9;]*m//g' "$tmp/mvn.log" | grep -m 3 -E 'Failed to|Could not' >&2 ||
            tail -n 40 "$tmp/mvn.log" >&2 || true
        cp "$tmp/mvn.log" "$CACHE_DIR/mvn-failed.log" 2>/dev/null || true
        rm -rf "$tmp"
        die "could not fetch Kafka $KAFKA_VERSION from Maven Central (is KAFKA_VERSION=$KAFKA_VERSION a real release? full output: $CACHE_DIR/mvn-failed.log)"
    fi
    compgen -G "$tmp/libs/kafka_2.1[0-9]-*.jar" >/dev/null || {
        rm -rf "$tmp"
        die "mvn succeeded but no kafka_$SCALA_BINARY_VERSION jar was copied"
    }
    rm -rf "$LIBS_DIR"
    mv "$tmp/libs" "$LIBS_DIR"
    mv "$tmp/pom.xml" "$CACHE_DIR/pom.xml"
    rm -rf "$tmp"
    printf 'kafka %s fetched %s\n' "$KAFKA_VERSION" "$(date -u +%FT%TZ)" >"$CACHE_DIR/$FETCH_MARKER"
    log "cached $(find "$LIBS_DIR" -name '*.jar' | wc -l | tr -d ' ') jars in $LIBS_DIR"
    exec 8>&-
}

# ---------------------------------------------------------------- probes

# 0 if something accepts TCP connections on $1:$2.
port_open() {
    # shellcheck disable=SC2016  # the inner script expands its own $1/$2
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# 0 if a Kafka broker answers a Metadata (v4) request on $1:$2 and lists at
# least one live broker, i.e. it is registered and serving clients.
# Raw protocol over bash's /dev/tcp: no client tools or Python needed.
kafka_metadata_ok() {
    local reply
    # shellcheck disable=SC2016  # the inner script expands its own $1/$2
    reply="$(timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        # size=23 | api_key=3 (Metadata) | version=4 | correlation_id=0x5253 |
        # client_id="kafka.sh" | topics=null (-1) | allow_auto_topic_creation=false
        printf "\x00\x00\x00\x17\x00\x03\x00\x04\x00\x00\x52\x53\x00\x08kafka.sh\xff\xff\xff\xff\x00" >&3
        head -c 16 <&3 | od -An -v -tx1 | tr -d " \n"
    ' _ "$1" "$2" 2>/dev/null)" || return 1
    # reply: size(4) correlation_id(4) throttle_time_ms(4) broker_count(4)
    [[ ${#reply} -eq 32 && "${reply:8:8}" == "00005253" ]] || return 1
    ((16#${reply:24:8} >= 1 && 16#${reply:24:8} < 1000))
}

# 0 if the broker serves clients on $KAFKA_HOST:$KAFKA_PORT. A SASL_SSL listener
# answers nothing before the TLS handshake and the login, so there the open port
# and the broker's own "started" line stand in for the Metadata request.
broker_serving() {
    if [[ "$LISTENER" == PLAINTEXT ]]; then
        kafka_metadata_ok "$KAFKA_HOST" "$KAFKA_PORT"
    else
        port_open "$KAFKA_HOST" "$KAFKA_PORT" && grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null
    fi
}

# 0 if process $1 exists and is not a zombie.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    if [[ -r "/proc/$1/stat" ]]; then
        local stat
        stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
        stat="${stat##*) }"
        [[ "${stat%% *}" != Z ]] || return 1
    fi
    return 0
}

# 0 if process $1 is a broker (kafka.Kafka) running this state dir's config.
is_our_broker() {
    [[ -r "/proc/$1/cmdline" ]] || return 0 # no /proc: trust the pid file
    local args=()
    mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || return 1
    [[ " ${args[*]} " == *" kafka.Kafka $PROPS_FILE "* ]]
}

# Pid of the broker started from this state dir, if it is alive. Guards against
# pid reuse, and finds the broker even if its pid file was lost.
broker_pid() {
    local pid=""
    [[ -f "$PID_FILE" ]] && pid="$(tr -dc '0-9' <"$PID_FILE")"
    if [[ -n "$pid" ]] && alive "$pid" && is_our_broker "$pid"; then
        echo "$pid"
        return 0
    fi
    local dir
    for dir in /proc/[0-9]*; do
        pid="${dir#/proc/}"
        [[ -r "$dir/cmdline" ]] || continue
        if is_our_broker "$pid" && alive "$pid"; then
            echo "$pid" >"$PID_FILE"
            echo "$pid"
            return 0
        fi
    done 2>/dev/null
    return 1
}

who_listens() {
    if command -v ss >/dev/null 2>&1; then
        ss -Hltnp "sport = :$1" 2>/dev/null | head -n 3 >&2 || true
    fi
}

show_log_tail() {
    if [[ -s "$LOG_FILE" ]]; then
        printf -- '---- last 30 lines of %s ----\n' "$LOG_FILE" >&2
        tail -n 30 "$LOG_FILE" >&2
        printf -- '---- end of log (full log: %s) ----\n' "$LOG_FILE" >&2
    else
        log "log file $LOG_FILE is empty or missing"
    fi
}

lock_state_dir() {
    mkdir -p "$STATE_DIR"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$STATE_DIR/.lock"
        flock -w $((KAFKA_START_TIMEOUT + KAFKA_STOP_TIMEOUT + 900)) 9 ||
            die "timed out waiting for another kafka.sh working on $STATE_DIR"
    fi
}

# ---------------------------------------------------------------- config

# The broker side of a SASL_SSL listener: SCRAM-SHA-512 logins only, over TLS with
# the generated keystore. The broker logs in to itself (inter-broker) as "broker".
sasl_ssl_config() {
    local prefix="listener.name.sasl_ssl"
    echo "sasl.enabled.mechanisms=$SCRAM_MECHANISM"
    echo "sasl.mechanism.inter.broker.protocol=$SCRAM_MECHANISM"
    echo "$prefix.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"$(broker_password)\";"
    echo "ssl.keystore.type=PKCS12"
    echo "ssl.keystore.location=$TLS_DIR/broker.p12"
    echo "ssl.keystore.password=$(cat "$TLS_DIR/store-password")"
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$TLS_DIR/ca.pem"
    echo "ssl.client.auth=none"
    echo "ssl.endpoint.identification.algorithm=https"
    # The controller listener takes only the broker's own certificate: the broker and
    # the controller of this one node speak to each other as User:CN=$KAFKA_HOST.
    echo "listener.name.controller.ssl.client.auth=required"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    echo "allow.everyone.if.no.acl.found=false"
    echo "super.users=$(super_users)"
}

# super.users: the broker's own user and certificate, and KAFKA_SUPER_USERS.
super_users() {
    local name list="User:broker;User:CN=$KAFKA_HOST"
    for name in $KAFKA_SUPER_USERS; do
        [[ " $KAFKA_SASL_USERS " == *" $name:"* ]] || die "KAFKA_SUPER_USERS: '$name' is not one of KAFKA_SASL_USERS"
        list="$list;User:$name"
    done
    echo "$list"
}

broker_password() {
    if [[ ! -s "$TLS_DIR/broker-password" ]]; then
        (umask 077 && printf '%s' "${KAFKA_BROKER_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}" >"$TLS_DIR/broker-password")
    fi
    cat "$TLS_DIR/broker-password"
}

# A self-signed CA and a broker certificate for $KAFKA_HOST (and localhost), made once
# per state dir with openssl; the broker reads its key and chain from a PKCS12 store.
ensure_tls() {
    [[ -s "$TLS_DIR/broker.p12" && -s "$TLS_DIR/ca.pem" ]] && return 0
    command -v openssl >/dev/null 2>&1 || die "openssl not found: KAFKA_SECURITY=sasl_ssl makes its certificates with it (apt-get install openssl)"
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    log "making a CA and a broker certificate in $TLS_DIR"
    local san="DNS:localhost,IP:127.0.0.1"
    if [[ "$KAFKA_HOST" =~ ^[0-9.]+$ ]]; then
        [[ "$KAFKA_HOST" == 127.0.0.1 ]] || san="$san,IP:$KAFKA_HOST"
    else
        san="$san,DNS:$KAFKA_HOST"
    fi
    (
        umask 077
        cd "$TLS_DIR"
        head -c 18 /dev/urandom | base64 | tr '+/' '-_' >store-password
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=riskstream local CA" \
            -keyout ca.key -out ca.pem >/dev/null 2>&1
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$KAFKA_HOST" \
            -keyout broker.key -out broker.csr >/dev/null 2>&1
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >broker.ext
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
            -extfile broker.ext -out broker.pem >/dev/null 2>&1
        openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
            -passout "file:store-password" -out broker.p12 >/dev/null 2>&1
        chmod 644 ca.pem
    ) || die "making the TLS material in $TLS_DIR failed (openssl)"
}

# --add-scram arguments of the storage tool: the broker's own user and KAFKA_SASL_USERS.
scram_arguments() {
    local pair name password
    SCRAM_ARGS=(--add-scram "$SCRAM_MECHANISM=[name=broker,password=$(broker_password)]")
    for pair in $KAFKA_SASL_USERS; do
        name="${pair%%:*}"
        password="${pair#*:}"
        [[ -n "$name" && "$pair" == *:* && -n "$password" ]] || die "KAFKA_SASL_USERS: '$pair' is not name:password"
        SCRAM_ARGS+=(--add-scram "$SCRAM_MECHANISM=[name=$name,password=$password]")
    done
}

write_config() {
    mkdir -p "$STATE_DIR" "$DATA_DIR"
    {
        echo "# generated by deploy/local/kafka.sh on every start - edits are overwritten;"
        echo "# use KAFKA_EXTRA_CONFIG for extra settings"
        echo "process.roles=broker,controller"
        echo "node.id=1"
        echo "controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT"
        echo "listeners=$LISTENER://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
        echo "advertised.listeners=$LISTENER://$KAFKA_HOST:$KAFKA_PORT"
        echo "inter.broker.listener.name=$LISTENER"
        echo "controller.listener.names=CONTROLLER"
        echo "listener.security.protocol.map=CONTROLLER:$CONTROLLER_PROTOCOL,$LISTENER:$LISTENER"
        [[ "$LISTENER" == PLAINTEXT ]] || sasl_ssl_config
        echo "log.dirs=$DATA_DIR"
        echo "num.partitions=1"
        echo "default.replication.factor=1"
        echo "min.insync.replicas=1"
        echo "offsets.topic.replication.factor=1"
        echo "offsets.topic.num.partitions=1"
        echo "transaction.state.log.replication.factor=1"
        echo "transaction.state.log.min.isr=1"
        echo "transaction.state.log.num.partitions=1"
        echo "share.coordinator.state.topic.replication.factor=1"
        echo "share.coordinator.state.topic.min.isr=1"
        echo "group.initial.rebalance.delay.ms=0"
        echo "auto.create.topics.enable=true"
        echo "delete.topic.enable=true"
        if [[ -n "$KAFKA_EXTRA_CONFIG" ]]; then
            echo "# KAFKA_EXTRA_CONFIG"
            printf '%s\n' "$KAFKA_EXTRA_CONFIG"
        fi
    } >"$PROPS_FILE"

    # Everything goes to stdout, which start redirects into $LOG_FILE.
    cat >"$LOG4J2_FILE" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
    # For a KAFKA_HOME distribution that still logs through log4j 1 / reload4j (3.x).
    cat >"$LOG4J1_FILE" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
EOF
}

jvm_common_opts() {
    JVM_OPTS=(
        "-Dlog4j2.configurationFile=file:$LOG4J2_FILE"
        "-Dlog4j.configuration=file:$LOG4J1_FILE"
        "-Dkafka.logs.dir=$STATE_DIR/logs"
        -Djava.awt.headless=true
    )
}

format_storage() {
    [[ -f "$DATA_DIR/meta.properties" ]] && return 0
    local cluster_id out
    # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding. One that
    # starts with "-" would be read as an option by the storage tool: draw again.
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
        cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    log "formatting KRaft storage in $DATA_DIR (cluster id $cluster_id)"
    jvm_common_opts
    SCRAM_ARGS=()
    [[ "$LISTENER" == PLAINTEXT ]] || scram_arguments
    if ! out="$("$JAVA" "${JVM_OPTS[@]}" -cp "$LIBS_DIR/*" kafka.tools.StorageTool \
        format --cluster-id="$cluster_id" --config "$PROPS_FILE" --ignore-formatted \
        "${SCRAM_ARGS[@]}" 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "formatting the storage failed (kafka.tools.StorageTool format)"
    fi
    echo "$EFFECTIVE_VERSION" >"$VERSION_FILE"
}

# ---------------------------------------------------------------- commands

stop_pid() {
    local pid="$1" i
    log "stopping Kafka broker (pid $pid)..."
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < KAFKA_STOP_TIMEOUT * 5; i++)); do
        alive "$pid" || break
        sleep 0.2
    done
    if alive "$pid"; then
        log "broker (pid $pid) did not exit within ${KAFKA_STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            alive "$pid" || break
            sleep 0.2
        done
    fi
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_stop() {
    lock_state_dir
    local pid
    if pid="$(broker_pid)"; then
        stop_pid "$pid"
    else
        rm -f "$PID_FILE"
        log "not running (state dir $STATE_DIR)"
    fi
}

cmd_status() {
    local pid
    if pid="$(broker_pid)"; then
        if broker_serving; then
            echo "running: pid $pid, bootstrap $ADDRESS, Kafka $EFFECTIVE_VERSION, state dir $STATE_DIR"
        else
            echo "running (not serving requests yet): pid $pid, bootstrap $ADDRESS, Kafka $EFFECTIVE_VERSION, state dir $STATE_DIR"
        fi
        return 0
    fi
    echo "stopped: nothing running from $STATE_DIR (bootstrap would be $ADDRESS)"
    return 3
}

wait_ready() {
    local pid="$1" deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive "$pid"; then
            rm -f "$PID_FILE"
            log "the broker (pid $pid) exited during startup"
            show_log_tail
            exit 1
        fi
        if broker_serving; then
            return 0
        fi
        sleep 0.5
    done
    log "the broker (pid $pid) did not serve requests on $ADDRESS within ${KAFKA_START_TIMEOUT}s (raise KAFKA_START_TIMEOUT?); stopping it"
    show_log_tail
    stop_pid "$pid" 2>/dev/null
    exit 1
}

cmd_start() {
    local fresh="$KAFKA_RESET" arg pid
    for arg in "$@"; do
        case "$arg" in
        --fresh | --reset) fresh=1 ;;
        *) die "start: unknown option '$arg'" ;;
        esac
    done
    [[ "$fresh" == 1 || "$fresh" == true || "$fresh" == yes ]] && fresh=1 || fresh=0

    lock_state_dir
    if pid="$(broker_pid)"; then
        if ((fresh)); then
            log "fresh start requested: stopping the running broker (pid $pid) first"
            stop_pid "$pid"
        else
            wait_ready "$pid"
            log "already running (pid $pid, state dir $STATE_DIR)"
            echo "$ADDRESS"
            return 0
        fi
    fi
    rm -f "$PID_FILE"

    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        who_listens "$KAFKA_PORT"
        die "port $KAFKA_PORT on $KAFKA_HOST is already in use by another process (not a broker from $STATE_DIR); stop it or choose another KAFKA_PORT"
    fi
    if port_open 127.0.0.1 "$CONTROLLER_PORT"; then
        who_listens "$CONTROLLER_PORT"
        die "controller port $CONTROLLER_PORT is already in use by another process; set KAFKA_CONTROLLER_PORT"
    fi

    ensure_jars
    find_java

    if ((fresh)) && [[ -e "$DATA_DIR" ]]; then
        log "wiping $DATA_DIR"
        rm -rf "$DATA_DIR" "$VERSION_FILE"
    fi
    [[ "$LISTENER" == PLAINTEXT ]] || ensure_tls
    write_config
    if [[ -f "$VERSION_FILE" && "$(cat "$VERSION_FILE")" != "$EFFECTIVE_VERSION" ]]; then
        log "warning: $DATA_DIR was formatted by Kafka $(cat "$VERSION_FILE"), now starting $EFFECTIVE_VERSION; if startup fails, retry with KAFKA_RESET=1 (wipes the data)"
    fi
    format_storage

    [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
    mkdir -p "$STATE_DIR/logs"
    local heap=() extra=()
    read -r -a heap <<<"$KAFKA_HEAP_OPTS"
    read -r -a extra <<<"$KAFKA_OPTS"
    jvm_common_opts
    log "starting Kafka $EFFECTIVE_VERSION on $ADDRESS (controller 127.0.0.1:$CONTROLLER_PORT, state dir $STATE_DIR)"
    local launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    # The wrapper records its own pid and then execs java, so the pid file holds
    # the JVM's pid; setsid detaches it from the caller's session/process group.
    # shellcheck disable=SC2016  # $$/$0/$@ belong to the wrapper shell
    nohup "${launcher[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        "$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "${JVM_OPTS[@]}" "${extra[@]}" \
        -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS_FILE" \
        </dev/null >>"$LOG_FILE" 2>&1 8>&- 9>&- &
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s "$PID_FILE" ]] && break
        sleep 0.1
    done
    pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] || {
        show_log_tail
        die "the broker process did not start"
    }
    wait_ready "$pid"
    log "Kafka $EFFECTIVE_VERSION is up (pid $pid, log $LOG_FILE)"
    echo "$ADDRESS"
}

cmd_logs() {
    [[ -f "$LOG_FILE" ]] || die "no log yet at $LOG_FILE"
    if (($# == 0)); then set -- -n 50 -F; fi
    exec tail "$@" "$LOG_FILE"
}

cmd_path() {
    ensure_jars
    echo "$LIBS_DIR"
}

main() {
    local cmd="${1:-}"
    (($# > 0)) && shift
    case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    restart)
        cmd_stop
        exec 9>&-
        cmd_start "$@"
        ;;
    status) cmd_status ;;
    logs | log) cmd_logs "$@" ;;
    path | classpath) cmd_path ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 ;;
    esac
}

main "$@"
