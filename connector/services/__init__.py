"""The use cases of the connector, between its interfaces (HTTP APIs, command line, console) and
storage: accept an event, subscribe, unsubscribe, retry, recover, rotate a secret.

Interfaces parse their input, call one function here and render the result; the rules live here.
Functions take the :class:`~connector.services.runtime.Runtime` (settings, database, catalog, the
worker to wake), a session where the caller owns the unit of work, and raise
:class:`~connector.services.errors.ServiceError` subclasses that each interface maps to its own
answer. Nothing here knows of Flask or HTTP.
"""
