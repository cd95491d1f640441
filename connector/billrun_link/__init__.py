"""The connector's link to a tenant's BillRun: it keeps BillRun's webhook registrations in step with
the tenant's subscriptions through BillRun's plugin API (OAuth2 client credentials).

One job per module: :mod:`.errors` (what can go wrong), :mod:`.endpoint` (the BillRun URL and the
HTTP session), :mod:`.token` (OAuth2 tokens), :mod:`.plugin_client` (the plugin API as the real
plugin answers), :mod:`.pairs` (which ``(module, action)`` pairs BillRun must fire),
:mod:`.webhook_ids` (the ids the connector chooses), :mod:`.secret_box` (the client secret at rest),
:mod:`.reconcile` (one pass against BillRun), :mod:`.service` (connect, status, sync, disconnect)
and :mod:`.loop` (the periodic pass beside the delivery worker).
"""
