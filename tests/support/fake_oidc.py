"""An OpenID Connect provider for tests: discovery, authorize, token and keys, over real HTTP.

``/authorize`` signs in whoever the test named (:attr:`FakeOidc.person`) at once and sends the
browser back with a code; ``/token`` exchanges it (client secret checked) for an ID token
signed RS256 with a key published at ``/jwks``. The test can break things the app must catch:
a token for another audience, signed by a key nobody published, or without the nonce.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "grievance-test"
CLIENT_SECRET = "test-oidc-secret-0123456789"


@dataclass
class FakeOidc:
    """The provider's state: who signs in next, the codes it gave, the requests it saw."""

    person: dict[str, Any] = field(
        default_factory=lambda: {"email": "handler@example.org", "email_verified": True}
    )
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    # Set by a test to break the next ID tokens.
    audience: str = CLIENT_ID
    forged: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    base_url: str = ""

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, args: dict[str, str]) -> Response:
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("bad request", status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": args.get("nonce"), "redirect_uri": args["redirect_uri"]}
        target = args["redirect_uri"] + "?" + urlencode({"code": code, "state": args["state"]})
        return Response(status=302, headers={"Location": target})

    def token(self, request: Request) -> Response:
        form = dict(request.form)
        self.token_requests.append(form)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        grant = self.codes.pop(form.get("code", ""), None)
        if client_id != CLIENT_ID or secret != CLIENT_SECRET or grant is None:
            return _json({"error": "invalid_grant"}, 400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.base_url,
            "sub": "user-" + str(self.person.get("email")),
            "aud": self.audience,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **self.person,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.forged else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return _json(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}


def _json(body: dict[str, Any], status: int = 200) -> Response:
    import json

    return Response(json.dumps(body), status=status, content_type="application/json")


class FakeOidcServer:
    """Serves a :class:`FakeOidc` on 127.0.0.1 from a background thread."""

    def __init__(self) -> None:
        self.state = FakeOidc()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.state.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOidc:
        self._thread.start()
        return self.state

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        state = self.state
        if request.path == "/.well-known/openid-configuration":
            response = _json(state.discovery())
        elif request.path == "/authorize":
            response = state.authorize(dict(request.args))
        elif request.path == "/token" and request.method == "POST":
            response = state.token(request)
        elif request.path == "/jwks":
            response = _json(state.jwks())
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)
