"""Query the archive at scale: a Glue table over AWS Config's deliveries, with partition
projection, and an Athena workgroup whose results are encrypted in a hardened bucket of their own.

Enabled by `configtrail:athena: true`. The table covers `<prefix>/AWSLogs/${account}/Config/
${region}/${dt}/${kind}/` for every account that delivers to the archive (an organization archive
holds many), where `dt` is the delivery day as AWS Config writes it (`yyyy/M/d`, not zero-padded)
and `kind` is ConfigHistory or ConfigSnapshot. Partition projection computes the
partitions from the query's predicates, so nothing has to crawl the archive or add partitions as
deliveries arrive. `configuration`, `supplementaryConfiguration`, `tags` and `relationships` are
declared `string`: the JSON SerDe hands them over as the JSON text AWS Config wrote, which
`configtrail history --athena-workgroup` diffs exactly like the files it reads itself.

Query results go to a dedicated bucket, not to a prefix of the archive: the archive replicates
everything into the write-once vault and never expires anything, while results are derived,
reproducible copies of (possibly sensitive) configuration that should expire; and people who run
queries need write access to the results location, which nobody but AWS Config should have on the
archive. The results bucket gets the same hardening as the archive (versioning, default
encryption with the archive's key when there is one, no public access, no ACLs, TLS only, the
same `protect`), and its lifecycle expires results only after `retentionDays`, the environment's
history horizon: an audit query's result is evidence of what was reported, and the policy pack
holds every bucket of the stack to that minimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.history.athena import DEFAULT_TABLE
from configtrail.stack import documents
from configtrail.stack.archive import BucketArgs, hardened_bucket
from configtrail.stack.base import Account, child, json_policy

# Partition projection needs a first day; earlier days simply have no objects.
PROJECTION_START = "2020/1/1"
# Cost guard: a query scanning more than this is cancelled (Athena bills per byte scanned).
BYTES_SCANNED_CUTOFF = 1024**4  # 1 TiB
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"

# One delivered file: {"fileVersion", "configSnapshotId" (snapshots), "configurationItems": [...]}
_ITEM_FIELDS = (
    ("configurationitemversion", "string"),
    ("configurationitemcapturetime", "string"),
    ("configurationstateid", "bigint"),
    ("awsaccountid", "string"),
    ("configurationitemstatus", "string"),
    ("resourcetype", "string"),
    ("resourceid", "string"),
    ("resourcename", "string"),
    ("arn", "string"),
    ("awsregion", "string"),
    ("availabilityzone", "string"),
    ("configurationstatemd5hash", "string"),
    ("resourcecreationtime", "string"),
    ("configuration", "string"),
    ("supplementaryconfiguration", "string"),
    ("tags", "string"),
    ("relationships", "string"),
)
COLUMNS = (
    ("fileversion", "string"),
    ("configsnapshotid", "string"),
    (
        "configurationitems",
        "array<struct<" + ",".join(f"{name}:{kind}" for name, kind in _ITEM_FIELDS) + ">>",
    ),
)
PARTITION_KEYS = (
    ("account", "string"),
    ("region", "string"),
    ("dt", "string"),
    ("kind", "string"),
)


def database_name(stack: str) -> str:
    """Glue names are lowercase letters, digits and underscores."""
    return "configtrail_" + "".join(c if c.isalnum() else "_" for c in stack.lower()) + "_history"


def delivery_root(bucket: str, key_prefix: str) -> str:
    """Where every account's deliveries start: `s3://<bucket>/<prefix>/AWSLogs/`."""
    prefix = f"{key_prefix}/" if key_prefix else ""
    return f"s3://{bucket}/{prefix}AWSLogs/"


def projection_parameters(accounts: list[str], regions: list[str], root: str) -> dict[str, str]:
    """Table properties that make Athena compute partitions instead of looking them up."""
    return {
        "classification": "json",
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(accounts),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(regions),
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy/M/d",
        "projection.dt.range": f"{PROJECTION_START},NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "projection.kind.type": "enum",
        "projection.kind.values": "ConfigHistory,ConfigSnapshot",
        "storage.location.template": root + "${account}/Config/${region}/${dt}/${kind}/",
    }


@dataclass(frozen=True)
class HistoryQueriesArgs:
    stack: str
    region: str  # the home region, where the archive is
    account: Account  # the account holding the archive
    accounts: list[str]  # the accounts delivering into it
    regions: list[str]
    archive_bucket: pulumi.Input[str]
    key_prefix: str
    results_bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str] | None
    workgroup_name: str
    protect: bool
    results_expiration_days: int  # the stack's retentionDays
    access_log_bucket: pulumi.Input[str] | None = None


class HistoryQueries(pulumi.ComponentResource):
    """Glue database and table over the archive, Athena workgroup, and its results bucket."""

    def __init__(
        self, name: str, args: HistoryQueriesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:history:HistoryQueries", name, None, opts)
        bucket_args = BucketArgs(
            bucket_name=args.results_bucket_name,
            region=args.region,
            account=args.account,
            kms_key_arn=args.kms_key_arn,
            protect=args.protect,
            access_log_bucket=args.access_log_bucket,
        )
        hardened = hardened_bucket(self, f"{name}-results", bucket_args)
        results, results_arn = hardened.bucket, hardened.arn
        versioning, public_access_block = hardened.versioning, hardened.public_access_block
        aws.s3.BucketPolicy(
            f"{name}-results-policy",
            bucket=results.bucket,
            policy=json_policy(results_arn, build=documents.tls_only_bucket_policy),
            region=args.region,
            opts=child(self, depends_on=[public_access_block]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-results-lifecycle",
            bucket=results.bucket,
            rules=[
                {
                    "id": "expire-query-results",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": args.results_expiration_days},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.results_expiration_days
                    },
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            region=args.region,
            opts=child(self, depends_on=[versioning]),
        )

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=database_name(args.stack),
            description="ConfigTrail: AWS Config history delivered to the archive",
            region=args.region,
            opts=child(self),
        )
        root = pulumi.Output.from_input(args.archive_bucket).apply(
            lambda bucket: delivery_root(bucket, args.key_prefix)
        )
        self.table = aws.glue.CatalogTable(
            f"{name}-table",
            name=DEFAULT_TABLE,
            database_name=self.database.name,
            description="Configuration items from ConfigHistory and ConfigSnapshot files",
            table_type="EXTERNAL_TABLE",
            parameters=root.apply(lambda r: projection_parameters(args.accounts, args.regions, r)),
            partition_keys=[{"name": n, "type": t} for n, t in PARTITION_KEYS],
            storage_descriptor={
                "location": root,
                "input_format": "org.apache.hadoop.mapred.TextInputFormat",
                "output_format": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "ser_de_info": {"serialization_library": JSON_SERDE},
                "columns": [{"name": n, "type": t} for n, t in COLUMNS],
            },
            region=args.region,
            opts=child(self),
        )
        if args.kms_key_arn is not None:
            encryption = {"encryption_option": "SSE_KMS", "kms_key_arn": args.kms_key_arn}
        else:
            encryption = {"encryption_option": "SSE_S3"}
        self.workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=args.workgroup_name,
            description="ConfigTrail: queries over the AWS Config history archive",
            state="ENABLED",
            force_destroy=False,
            configuration={
                # Clients cannot send results elsewhere or unencrypted.
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": BYTES_SCANNED_CUTOFF,
                "engine_version": {"selected_engine_version": "AUTO"},
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", results.bucket, "/"),
                    "expected_bucket_owner": args.account.account_id,
                    "encryption_configuration": encryption,
                },
            },
            region=args.region,
            opts=child(self),
        )
        self.results_bucket = results.bucket
        self.register_outputs(
            {
                "workgroup": self.workgroup.name,
                "database": self.database.name,
                "table": self.table.name,
                "resultsBucket": self.results_bucket,
            }
        )
