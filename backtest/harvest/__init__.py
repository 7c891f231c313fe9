"""Harvesting Deribit's public API (docs/data-sources.md): ``client`` (JSON-RPC over HTTP with
retries) and ``harvester`` (snapshots and history into the data folder). The only package
that touches the network."""
