"""Every answer the API tests get, checked against the OpenAPI document the server serves, so the
two cannot drift apart: an answer of a documented operation by openapi-core; a 404 or a 405,
which no operation can hold, against the document's own NotFound and MethodNotAllowed."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from typing import Any

from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.deserializing.media_types.util import plain_loads
from openapi_schema_validator import OAS31Validator
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request, Response


class Contract:
    """The served document (the bytes of ``GET /openapi.json``) and its checks."""

    def __init__(self, document: bytes) -> None:
        self.document: dict[str, Any] = json.loads(document)
        # openapi-core reads text/plain as text, and any other text type as bytes, which no
        # {"type": "string"} accepts: the feed is text, in its charset.
        config = Config(extra_media_type_deserializers={"text/calendar": plain_loads})
        self.openapi = OpenAPI.from_dict(self.document, config=config)

    def check(self, request: Request, response: Response) -> None:
        """Raise if ``response`` is not an answer the document allows to ``request``."""
        path = self.document["paths"].get(request.path)
        if path is not None and request.method.lower() in path:
            self.openapi.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
            return
        status, name = (404, "NotFound") if path is None else (405, "MethodNotAllowed")
        where = f"{request.method} {request.path}"
        assert response.status_code == status, f"{where}: {response.status_code}, not {status} ({name})"
        expected = self._resolve(self.document["components"]["responses"][name])
        for header, reference in expected["headers"].items():
            spec = self._resolve(reference)
            if header in response.headers:
                OAS31Validator(spec["schema"]).validate(response.headers[header])
            else:
                assert not spec.get("required"), f"{where}: no {header} header"
        (media_type,) = expected["content"]
        assert response.mimetype == media_type, f"{where}: {response.mimetype}"
        schema = self._resolve(expected["content"][media_type]["schema"])
        OAS31Validator(schema).validate(json.loads(response.get_data()))

    def check_http(
        self, method: str, url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes
    ) -> None:
        """The same for an answer read off the wire: ``url`` absolute, ``headers`` as received."""
        parts = urllib.parse.urlsplit(url)
        environ = EnvironBuilder(
            parts.path, f"{parts.scheme}://{parts.netloc}", query_string=parts.query, method=method
        ).get_environ()
        self.check(Request(environ), Response(body, status, list(headers)))

    def check_schemathesis(self, response: Any) -> None:
        """The same for an answer schemathesis got (its own checks are more lenient: it read
        ``nullable`` beside ``oneOf`` as allowing null, which OpenAPI 3.0 does not)."""
        headers = [(name, value) for name, values in response.headers.items() for value in values]
        request = response.request
        self.check_http(request.method, request.url, response.status_code, headers, response.content)

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:  # a local reference, #/components/...
            target: Any = self.document
            for key in node["$ref"].removeprefix("#/").split("/"):
                target = target[key]
            node = target
        return node


class CheckedClient(FlaskClient):
    """Flask's test client, checking each answer it gets against ``contract``."""

    def __init__(self, *args: Any, contract: Contract, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contract = contract

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        self.contract.check(response.request, response)
        return response
