"""Generator of ``schemas/`` (catalog and JSON Schemas) and of ``docs/events.md``.

The compact definition lives in :mod:`connector.schemagen.spec` (event types, titles),
:mod:`connector.schemagen.fields` (entity and document fields) and
:mod:`connector.schemagen.samples` (realistic example payloads). Run
``python -m connector.schemagen`` to regenerate, ``--check`` to fail when the committed
files differ from what the generator makes.
"""
