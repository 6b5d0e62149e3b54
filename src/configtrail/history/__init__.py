"""History explorer: timelines, diffs and audit reports from what AWS Config delivered.

layout (where deliveries live) -> reader (bucket or directory, one file at a time) -> scan
(choose, fetch, skip bad files) -> store (on-disk, sorted by resource and time) -> diff
(timelines) -> render (table, json, markdown, html). athena answers the same question from the
Glue table the stack creates, for archives too large to scan from one machine.
"""
