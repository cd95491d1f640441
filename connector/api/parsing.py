"""The blueprint class of the JSON APIs: flask-smorest with a stricter request body parser."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Request
from marshmallow import Schema
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from connector import jsonlimits


class JsonBodyParser(FlaskParser):
    """JSON bodies read with :mod:`connector.jsonlimits` (bounded nesting, no NaN): a 400 that says
    what is wrong. A body sent with another Content-Type is a 415 that says so, not a list of
    missing fields."""

    def load_json(self, req: Request, schema: Schema) -> Any:
        if req.get_data(cache=True) and not req.is_json:
            raise UnsupportedMediaType(
                f"send the body as JSON with 'Content-Type: application/json' (got {req.mimetype or 'no type'!r})"
            )
        return super().load_json(req, schema)

    def _raw_load_json(self, req: Request) -> Any:
        data = req.get_data(cache=True)
        if not data:
            return missing
        try:
            return jsonlimits.loads(data)
        except jsonlimits.JsonRefused as exc:
            raise BadRequest(f"the JSON body is refused: {exc}") from None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()
