"""The simulated cloud, served on loopback for the demo and the tests (docs/SIMULATOR.md).

"CloudCRM" gives the demo organisation something real to watch: a health endpoint, a login
page with a keyword, a vendor status page in Statuspage format, neutral canary targets, a
receiver that shows the staff alerts Fallback sends, and an SMTP sink that shows the mail
it sends. Behind it, one small business's data (customers, contacts, suppliers, products,
orders, invoices) in three vendors' dialects, for the replica to copy. It can be taken
down, slowed and broken in the ways real APIs break (from the system page in the demo, or
`fallback sim`), and its SMTP sink made to refuse mail.

- `business`: the business, generated record by record on demand, and its changes;
- `shopify`, `hubspot`, `quickbooks`: the dialects' endpoints over it;
- `faults`: the failure switches; `api`: what the dialects share (gates, paging, JSON);
- `service`: the shared state; `app`: the aiohttp application, modes and control API;
- `mailbox`: the SMTP sink the demo's mail goes to; `mail_pages`: its Mail pages;
  `pages`: the HTML frame and nav the pages share;
- `runner`: serving it in a background thread, registered in the data folder;
- `control`: finding a running simulator and driving it, for the CLI, the UI and the tests.
"""
