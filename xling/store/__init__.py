"""The lowest stores every layer above may use: the content cache (`cache`: a self-healing
SQLite key-value store and the output cache on it), file digests remembered per file version
(`filehash`), and locks on run folders and output files (`locks`). They import only `errors` and
`data.resources` (where the cache folder is)."""
