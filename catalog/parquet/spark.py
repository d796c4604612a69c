"""Reading the lake with Apache Spark (PySpark): the recipe the README shows, as code the tests run.

PySpark is not an eocat dependency (``make spark`` installs it with a Java runtime). The lake is
read file by file as its manifest names them (so a running export is never seen half-way), with
``basePath`` set so the hive columns ``year``/``month`` come along and prune files; predicates on
the ``bbox`` covering struct are pushed down to the Parquet reader (row-group statistics).

``s3://`` lakes are read through Hadoop's ``s3a`` connector, which needs the ``hadoop-aws`` jar of
the Hadoop version inside PySpark (``spark.jars.packages``, fetched from Maven at session start);
the endpoint and credentials come from the same AWS variables as the rest of eocat.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from catalog.geo import Box, bbox_parts
from catalog.parquet.lake import Lake
from catalog.parquet.sql import lake_files

COLUMNS = ("id", "collection", "datetime", "bbox")


def session(*, s3: bool = False, app: str = "eocat-lake") -> Any:
    """A local Spark session (UTC, no UI); with ``s3`` the s3a connector set from the AWS variables."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode talks to itself on loopback only
    builder = (
        SparkSession.builder.master("local[2]").appName(app)
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false").config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "4")
    )  # fmt: skip
    if s3:
        builder = builder.config("spark.jars.packages", f"org.apache.hadoop:hadoop-aws:{hadoop_version()}")
        for key, value in s3a_settings().items():
            builder = builder.config(f"spark.hadoop.{key}", value)
    return builder.getOrCreate()


def hadoop_version() -> str:
    """The Hadoop version PySpark bundles (hadoop-aws must match it)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in jars.glob("hadoop-client-api-*.jar"):
        return jar.stem.removeprefix("hadoop-client-api-")
    raise RuntimeError(f"no hadoop-client-api jar in {jars}")


def s3a_settings() -> dict[str, str]:
    """Hadoop s3a settings from the standard AWS variables (the secret stays in the JVM's config)."""
    settings = {"fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem"}
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        settings["fs.s3a.access.key"] = os.environ["AWS_ACCESS_KEY_ID"]
        settings["fs.s3a.secret.key"] = os.environ["AWS_SECRET_ACCESS_KEY"]
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        settings["fs.s3a.endpoint.region"] = region
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        settings.update({"fs.s3a.endpoint": endpoint, "fs.s3a.path.style.access": "true",
                         "fs.s3a.connection.ssl.enabled": str(parts.scheme == "https").lower()})  # fmt: skip
    return settings


def read_lake(spark: Any, target: str | Path, columns: Sequence[str] = COLUMNS) -> Any:
    """The lake's current files as one DataFrame: ``columns`` plus the partition columns."""
    lake = Lake.open(target)
    frames = []
    for collection, urls in lake_files(target).items():
        base = lake.url(f"collection={collection}")
        paths = [url.replace("s3://", "s3a://", 1) for url in urls]
        frame = spark.read.option("basePath", base.replace("s3://", "s3a://", 1)).parquet(*paths)
        partitions = [name for name in ("year", "month") if name in frame.columns]
        frames.append(frame.select(*columns, *partitions))
    if not frames:
        raise ValueError(f"{target} holds no exported collection")
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame, allowMissingColumns=True)
    return result


def items_per_collection_month(frame: Any, *, bbox: Box | None = None, years: Sequence[int] = ()) -> Any:
    """Items per collection and month (``yyyy-MM``, UTC), optionally those whose bbox intersects
    ``bbox`` (W > E crosses the antimeridian) and acquired in ``years`` (partition pruning)."""
    from pyspark.sql import functions as F

    if years:
        frame = frame.where(F.col("year").isin(list(years)))
    if bbox is not None:
        crossing = F.col("bbox.xmin") > F.col("bbox.xmax")
        condition: Any = None
        for west, south, east, north in bbox_parts(bbox):
            part = (F.col("bbox.ymin") <= north) & (F.col("bbox.ymax") >= south)
            part = part & ((F.col("bbox.xmin") <= east) | crossing) & ((F.col("bbox.xmax") >= west) | crossing)
            condition = part if condition is None else condition | part
        frame = frame.where((F.col("bbox.ymin") <= bbox[3]) & (F.col("bbox.ymax") >= bbox[1]) & condition)
    return (frame.groupBy("collection", F.date_format("datetime", "yyyy-MM").alias("month"))
            .count().withColumnRenamed("count", "items").orderBy("collection", "month"))  # fmt: skip
