"""Configuration from environment variables (pydantic-settings)."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from riskstream.streams.access import ApiKey

# Shorter HMAC keys can be guessed offline from one signed token (RFC 7518 3.2).
MIN_SECRET_CHARS = 32
MINUTES_A_DAY = 1440


def _env(name: str) -> AliasChoices:
    """Accept both the short name (``KAFKA_BOOTSTRAP``) and the prefixed one."""
    return AliasChoices(name, f"RISKSTREAM_{name}")


class TopicNames(BaseSettings):
    """Topic names; every one can be renamed through ``RISKSTREAM_TOPIC_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RISKSTREAM_TOPIC_", frozen=True)

    transactions: str = "payments.transactions"
    account_events: str = "payments.account-events"
    feedback: str = "risk.feedback"
    signals: str = "risk.signals"
    decisions: str = "risk.decisions"
    dead_letter: str = "risk.dead-letter"
    rules: str = "risk.rules"
    penalties: str = "risk.penalties"
    audit: str = "risk.audit"
    rule_proposals: str = "risk.rule-proposals"
    rule_suspensions: str = "risk.rule-suspensions"
    profiles: str = "risk.profiles"
    models: str = "risk.models"


class Settings(BaseSettings):
    """Everything a riskstream process reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="RISKSTREAM_", frozen=True, extra="ignore")

    kafka_bootstrap: str = Field("localhost:9092", validation_alias=_env("KAFKA_BOOTSTRAP"))
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        validation_alias=_env("KAFKA_SECURITY_PROTOCOL"),
        description="How every Kafka client of riskstream talks to the brokers"
        " (docs/security.md, Kafka).",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None,
        validation_alias=_env("KAFKA_SASL_MECHANISM"),
        description="The SASL login (default PLAIN); only with a SASL_* protocol.",
    )
    kafka_sasl_username: str | None = Field(None, validation_alias=_env("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr | None = Field(
        None, validation_alias=_env("KAFKA_SASL_PASSWORD")
    )
    kafka_ssl_ca_file: Path | None = Field(
        None,
        validation_alias=_env("KAFKA_SSL_CA_FILE"),
        description="PEM CA certificates the brokers' certificates are checked against"
        " (default: the system's); only with SSL or SASL_SSL.",
    )
    kafka_ssl_cert_file: Path | None = Field(
        None,
        validation_alias=_env("KAFKA_SSL_CERT_FILE"),
        description="PEM client certificate (chain) for brokers that ask for one (mTLS),"
        " with kafka_ssl_key_file.",
    )
    kafka_ssl_key_file: Path | None = Field(None, validation_alias=_env("KAFKA_SSL_KEY_FILE"))
    token_secret: SecretStr | None = Field(
        None,
        # Its length is checked where the worker starts: a validation error here would
        # quote the value.
        validation_alias=_env("TOKEN_SECRET"),
        description="Key of the HMAC-SHA256 tokens that replace card, phone and national id"
        " numbers at ingest (docs/security.md), 16 characters at least. A worker refuses to"
        " start without one,"
        " unless RISKSTREAM_DEVELOPMENT is set. Changing it changes every token.",
    )
    development: bool = Field(
        False,
        validation_alias=_env("DEVELOPMENT"),
        description="Development mode: without RISKSTREAM_TOKEN_SECRET a worker tokenises"
        " with the published development secret instead of refusing to start.",
    )
    kafka_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "lz4",
        validation_alias=_env("KAFKA_COMPRESSION"),
        description="Compression of the record batches the worker produces (state"
        " records and re-keyed events compress several times over).",
    )
    web_port: int = Field(6066, ge=1, le=65535, validation_alias=_env("WEB_PORT"))
    web_host: str = Field(
        "127.0.0.1",
        validation_alias=_env("WEB_HOST"),
        description="The address other workers and clients reach this worker at (its"
        " advertised address, in the URL score requests are forwarded to).",
    )
    web_bind: str | None = Field(
        None,
        description="The address the web server listens on (default: web_host), e.g."
        " 0.0.0.0 behind a load balancer while web_host names the machine.",
    )
    web_ssl_cert_file: Path | None = Field(
        None,
        description="PEM certificate (chain) of the web server: with web_ssl_key_file, the"
        " server speaks HTTPS only.",
    )
    web_ssl_key_file: Path | None = None
    web_ssl_ca_file: Path | None = Field(
        None,
        description="CA certificates that score forwarding trusts for other workers'"
        " HTTPS (default: the system's).",
    )
    web_debug_views: bool = Field(
        False,
        description="Serve Faust's own views (/table/, /router/, /graph/, the index),"
        " to admins only; they show raw table state.",
    )
    auth_jwt_secret: SecretStr | None = Field(
        None,
        description="Shared secret that HS256 bearer tokens are signed with"
        f" (at least {MIN_SECRET_CHARS} characters).",
    )
    auth_jwt_public_keys_file: Path | None = Field(
        None,
        description="PEM file of RSA (RS256) and P-256 (ES256) public keys that bearer"
        " tokens may be signed for.",
    )
    auth_jwt_audience: str = Field(
        "riskstream",
        min_length=1,
        description="The aud claim every bearer token must carry.",
    )
    auth_jwt_issuer: str | None = Field(
        None,
        description="When set, the iss claim every bearer token must carry.",
    )
    auth_api_keys: tuple[ApiKey, ...] = Field(
        (),
        description='API keys as JSON: [{"subject": ..., "sha256": <hex of the key>,'
        ' "roles": [...]}].',
    )
    internal_secret: SecretStr | None = Field(
        None,
        description="Shared secret of the workers: a score request forwarded to the"
        " account's owner is signed with it. Without it nothing is forwarded.",
    )
    data_dir: Path = Field(Path("./var"), validation_alias=_env("DATA_DIR"))
    app_id: str = Field("riskstream", validation_alias=_env("APP_ID"))

    partitions: int = Field(8, ge=1, description="Partitions of the keyed topics and tables.")
    replication_factor: int = Field(1, ge=1)
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"

    @field_validator("processing_guarantee")
    @classmethod
    def _refuse_exactly_once(cls, value: str) -> str:
        # Correctness rests on idempotent state and stable signal ids under at-least-once.
        # Under Faust's transactions a kill -9 lost signals in our recovery test.
        if value == "exactly_once":
            raise ValueError(
                "exactly_once is refused: under Faust's Kafka transactions a worker killed "
                "mid-stream lost signals in riskstream's recovery test; at_least_once with "
                "idempotent state and deterministic signal ids is the tested guarantee"
            )
        return value

    # Short session timeouts let a crashed worker's partitions move on quickly.
    session_timeout_s: float = Field(30.0, gt=0)
    heartbeat_interval_s: float = Field(3.0, gt=0)
    commit_interval_s: float = Field(1.0, gt=0)

    max_message_bytes: int = Field(64 * 1024, ge=256, description="Larger payloads go to DLQ.")
    state_record_max_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024 * 1024,
        description="Largest entity record the state changelogs take (Kafka's default: 1 MB).",
    )
    rekey_bundle_max_items: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Under load, events bound for the entity stage (devices, IPs, "
        "merchants ...) leave in bundles of at most this many; with no backlog, at once.",
    )
    ingest_batch_max_events: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Input events of one partition applied as one batch at most (an"
        " account's record is written once per batch).",
    )
    watermark_delay_s: float = Field(
        2.0,
        ge=0,
        le=7 * 86400,
        description="How far out of event-time order one input partition may deliver its"
        " events: each event is applied once every source is this far past it, in (time,"
        " id) order, whatever order the topics came in. Signals wait this long (in event"
        " time); an event later than this is still applied, within its rules' lateness,"
        " but in arrival order.",
    )
    idle_source_s: float = Field(
        1.0,
        gt=0,
        description="An input partition with nothing left to read and nothing new for this"
        " long stops holding the others back; its next event may then come late.",
    )
    max_held_events: int = Field(
        200_000,
        ge=1,
        description="Events each stage of a worker holds at most while a lagging source is"
        " waited for, shared by its partitions; past it the oldest are applied without"
        " waiting.",
    )
    state_cache_mb: int = Field(
        256,
        ge=0,
        description="Memory for decoded entity states kept between batches (state lives in"
        " RocksDB; a state whose record changed meanwhile is read again). The core counts a"
        " decoded state at its measured heap size.",
    )
    fetch_max_wait_ms: int = Field(
        20,
        ge=1,
        le=30_000,
        description="How long the broker may hold the worker consumer's fetch for data to"
        " come (Kafka's fetch.max.wait.ms; Faust's fixed 1,500). One fetch at a time goes"
        " to a broker, so a partition left out of the one in flight waits for it: this"
        " bounds how long a record may sit on the broker before it is read. An idle worker"
        " sends about 1,000 / this fetches a second.",
    )
    fetch_partition_max_bytes: int = Field(
        1024 * 1024,
        ge=64 * 1024,
        description="Bytes the worker's consumer fetches at most per partition and request"
        " (a record larger still comes whole: the broker always returns a partition's"
        " first batch). A poll decodes all that is fetched: catching up a backlog, the"
        " consumer holds about this many bytes per assigned partition, decompressed.",
    )
    malloc_trim_interval_s: float = Field(
        10.0,
        ge=0,
        description="Every this many seconds the worker gives the memory glibc's malloc"
        " holds free back to the system (``malloc_trim``): it keeps what the core's thread"
        " freed, up to its largest batch. 0: never.",
    )
    malloc_trim_free_mb: int = Field(
        64,
        ge=0,
        description="The memory glibc's malloc holds free, in MiB, past which a check"
        " (``malloc_trim_interval_s``) gives it back. A trim holds the heaps' locks while it"
        " runs (up to ~150 ms on a large heap), so frequent small trims cost the event"
        " loop latency. 0: at every check.",
    )
    standby_replicas: int = Field(
        1,
        ge=0,
        le=8,
        description="Standby copies of each table partition other workers keep up to date"
        " (from the changelogs), for a fast failover; each costs its holder the reading.",
    )
    store_mb: int = Field(
        128,
        ge=2,
        le=65_536,
        description="RocksDB memory of the worker, shared by all its databases (one per"
        " table and partition it holds): one block cache, in which the write buffers (at"
        " most half of it) and the index and filter blocks are counted too.",
    )
    rule_time_budget_ms: float = Field(
        100.0,
        gt=0,
        le=10_000,
        description="The longest one evaluation of a rule's expression may take: a"
        " detection or scoring rule that takes longer is switched to disabled on every"
        " worker (risk.rule-suspensions; reported on /rules/ and in the log) until a new"
        " version of it is pushed.",
    )
    signals_per_rule_per_s: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="Signals one rule may publish per second on one worker; beyond it the"
        " rule's signals are dropped and counted (a circuit breaker for a rule gone wild).",
    )
    entity_retention_days: float = Field(
        400.0, gt=0, description="Entity and account records silent for longer are deleted."
    )
    cleanup_interval_s: float = Field(3600.0, gt=0, description="How often to look.")
    health_broker_timeout_s: float = Field(
        5.0,
        gt=0,
        description="/health/ answers 503 once the consumer has had no connection to any"
        " broker this long.",
    )
    health_stall_timeout_s: float = Field(
        60.0,
        gt=0,
        description="/health/ answers 503 once an input partition has had messages waiting"
        " and no committed progress this long.",
    )
    log_repeat_interval_s: float = Field(
        30.0,
        gt=0,
        description="A warning or error of the Kafka and Faust libraries that repeats is"
        " logged once, then summed up once per this interval.",
    )
    load_pack: bool = Field(
        True, description="Start from the shipped rule pack (the rules topic overlays it)."
    )
    rules_approval: Literal["required", "off"] = Field(
        "required",
        description="required: a rule change takes effect only once a second admin"
        " approves it, and a rules topic record without an approval is refused;"
        " off (development): changes are published at once.",
    )
    operator_token: SecretStr | None = Field(
        None,
        description="The bearer token (admin role) that names who proposes, approves or"
        " rejects a rule change from the command line.",
    )

    # The scorer.
    score_review_at: int = Field(40, ge=0, le=100)
    score_challenge_at: int = Field(60, ge=0, le=100)
    score_reject_at: int = Field(80, ge=0, le=100)
    score_unknown_decision: Literal["accept", "review", "challenge", "reject"] = "review"
    # A learned model's thresholds are chosen at training time by friction budget
    # (agents/model_thresholds.py; docs/scoring.md, "A model's decision thresholds").
    score_review_budget: float = Field(
        0.015, gt=0, le=1,
        description="model train: the share of legitimate transactions (on the validation"
        " tail) the model may send to review or above.",
    )  # fmt: skip
    score_challenge_budget: float = Field(
        0.003, gt=0, le=1,
        description="model train: the share the model may challenge or reject.",
    )  # fmt: skip
    score_reject_budget: float = Field(
        0.001, gt=0, le=1, description="model train: the share the model may reject."
    )
    score_forward_transactions: bool = Field(
        False, description="Also produce each scored transaction to the transactions topic."
    )
    profile_lookback_days: float = Field(
        8.0, gt=0, description="How far back a starting worker reads the signals topic."
    )
    rule_quality_lookback_days: float = Field(
        7.0,
        gt=0,
        description="The alerts per rule that /rules/ and the metrics judge: those "
        "of this many days before the newest alert (bounded by the signals read).",
    )
    rule_quality_keep_per_rule: int = Field(
        5000, ge=1, le=1_000_000, description="The newest alerts kept per rule version to judge."
    )
    profiles_period_minutes: int = Field(
        60,
        ge=1,
        le=MINUTES_A_DAY,
        description="How fresh the long-horizon profiles are: they are taken as of each"
        " multiple of this period since UTC midnight, by the worker leader's build and by"
        " the offline scoring pass (training, backtest) alike, so that a model is served"
        " profiles as fresh as those it was trained on. Minutes that divide an hour, or"
        " whole hours that divide a day.",
    )
    profiles_in_worker: bool = Field(
        True,
        description="Whether the worker leader rebuilds and publishes the profiles each"
        " period; false when a CronJob runs `riskstream profiles build --from-topics"
        " --publish` instead.",
    )
    profiles_settle_s: float = Field(
        60.0,
        ge=0,
        description="A profiles build leaves the input records appended in its last this"
        " many seconds (they may still be in flight) to the next build.",
    )
    profiles_label_delay_days: int = Field(
        7,
        ge=0,
        le=60,
        description="How many days verdicts (chargebacks, investigations) take to arrive:"
        " the profiles' settled fraud rates (fraud_rate_settled_7d ...) count the days"
        " older than this, whose verdicts are in.",
    )
    decision_memory_hours: float = Field(
        24.0,
        gt=0,
        description="How long an event id keeps the decision it got, across restarts: a "
        "starting worker reads this much of the decisions topic.",
    )
    decision_memory_max: int = Field(
        200_000, ge=1, description="At most this many remembered decisions (the newest)."
    )

    # The scorer process (`riskstream scorer`, docs/deployment.md).
    scorer_port: int = Field(
        6067, ge=1, le=65535, description="The port `riskstream scorer` serves on (--port)."
    )
    scorer_max_lag_s: float = Field(
        5.0,
        gt=0,
        description="A scorer process answers -1 STALE while any topic it follows was last"
        " read to its end longer ago than this.",
    )
    scorer_confirm_decisions: bool = Field(
        True,
        description="A scorer process answers with the first decision of the event id read"
        " back from the decisions topic (one answer per event id across instances, at a"
        " broker round trip per answer); false: at once, when no two instances can be asked"
        " the same event id at the same moment (the load balancer routes by event id).",
    )
    scorer_confirm_timeout_s: float = Field(
        2.0,
        gt=0,
        description="How long a scorer process waits to read its decision back from the"
        " decisions topic (the first one there is every instance's answer); then -1 STALE.",
    )
    scorer_readback_wait_ms: int = Field(
        10,
        ge=1,
        le=500,
        description="A scorer process reads its decisions back with one consumer whose"
        " fetch the broker holds at most this long: an answer waits at most this much"
        " longer when its partition was left out of the fetch in flight. Shorter: fewer"
        " such waits, more fetches while idle (about 1,000 / this a second).",
    )
    scorer_store_mb: int = Field(
        64,
        ge=2,
        description="RocksDB memory (block cache and write buffers) of a scorer process's"
        " replica of the account state; the records themselves are on disk.",
    )

    topics: TopicNames = Field(default_factory=TopicNames)

    @field_validator("auth_jwt_secret", "internal_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"a secret needs at least {MIN_SECRET_CHARS} characters")
        return value

    @field_validator("profiles_period_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        # Snapshots at the same times every day, and a period a crontab can say.
        if not (60 % value == 0 or (value % 60 == 0 and 24 % (value // 60) == 0)):
            raise ValueError("minutes that divide an hour (1-60) or whole hours dividing a day")
        return value

    @property
    def profiles_period_ms(self) -> int:
        return self.profiles_period_minutes * 60_000

    @property
    def profiles_cron(self) -> str:
        """The worker leader's crontab (UTC) for ``profiles_period_minutes``: each period,
        as many whole minutes after its start as the build lets records settle."""
        period = self.profiles_period_minutes
        offset = min(math.ceil(self.profiles_settle_s / 60), period - 1)
        if period == 1:
            return "* * * * *"
        if period < 60:
            return f"{offset}-59/{period} * * * *"
        return f"{offset} */{period // 60} * * *"

    @model_validator(mode="after")
    def _certificate_with_its_key(self) -> Settings:
        if (self.web_ssl_cert_file is None) != (self.web_ssl_key_file is None):
            raise ValueError("web_ssl_cert_file and web_ssl_key_file go together")
        return self

    @property
    def table_dir(self) -> Path:
        return self.data_dir / "tables"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
