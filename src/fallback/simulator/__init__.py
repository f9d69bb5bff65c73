"""The demo's simulated cloud service, "CloudCRM", served on loopback.

It gives the demo organisation something real to watch: a health endpoint, a login page with
a keyword, a vendor status page in Statuspage format, neutral canary targets, and a receiver
that shows the staff alerts Fallback sends. It can be taken down and brought back (from the
system page in the demo, or `fallback simulate down|up`), so a newcomer can watch a system go
down, an outage get declared, and recovery.

- `app`: the aiohttp application and its modes (up, down, slow);
- `runner`: serving it in a background thread, registered in the data folder;
- `control`: finding a running simulator and switching its mode, for the CLI and the UI.
"""
