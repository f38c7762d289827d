#!/usr/bin/env python3
"""A small OpenID Connect issuer for the OAuth tests: what Okta or Keycloak is to oauth2-proxy,
for one user who is always signed in. It serves discovery, the signing keys, the authorization
endpoint (which approves at once and redirects back with a code), the token endpoint (which
checks the client's id and secret, the code and the redirect URI) and userinfo. ID tokens are
RS256 JWTs, as oauth2-proxy's OIDC provider requires.

  oidc_issuer.py PORT CLIENT_ID CLIENT_SECRET_FILE EMAIL

Runs until killed. Needs PyJWT and cryptography (the SkyPilot virtualenv has both). Every
request is logged to stderr, so a test can show what oauth2-proxy asked.
"""

import base64
import hashlib
import json
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def b64url_uint(number):
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main():
    port, client_id, secret_file, email = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(secret_file) as f:
        client_secret = f.read().strip()
    issuer = f"http://127.0.0.1:{port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_numbers()
    kid = hashlib.sha256(str(public.n).encode()).hexdigest()[:16]
    jwks = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                      "n": b64url_uint(public.n), "e": b64url_uint(public.e)}]}
    codes = {}  # code -> (redirect_uri, nonce)

    def id_token(nonce):
        now = int(time.time())
        claims = {"iss": issuer, "aud": client_id, "sub": "user-1", "email": email,
                  "email_verified": True, "iat": now, "exp": now + 3600}
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, body=None, headers=()):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/.well-known/openid-configuration":
                return self.reply(200, {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/authorize",
                    "token_endpoint": f"{issuer}/token",
                    "userinfo_endpoint": f"{issuer}/userinfo",
                    "jwks_uri": f"{issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "email", "profile"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                              "client_secret_post"],
                    "claims_supported": ["sub", "email", "email_verified"],
                    "code_challenge_methods_supported": ["S256", "plain"],
                })
            if url.path == "/jwks":
                return self.reply(200, jwks)
            if url.path == "/authorize":
                if query.get("client_id") != client_id or "redirect_uri" not in query:
                    return self.reply(400, {"error": "invalid_request"})
                code = secrets.token_urlsafe(16)
                codes[code] = (query["redirect_uri"], query.get("nonce"))
                target = query["redirect_uri"] + "?" + urllib.parse.urlencode(
                    {"code": code, "state": query.get("state", "")})
                return self.reply(302, headers=[("Location", target)])
            if url.path == "/userinfo":
                return self.reply(200, {"sub": "user-1", "email": email, "email_verified": True})
            return self.reply(404, {"error": "not_found"})

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != "/token":
                return self.reply(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            given_id, given_secret = form.get("client_id"), form.get("client_secret")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                pair = base64.b64decode(basic[6:]).decode()
                given_id, given_secret = (urllib.parse.unquote_plus(part)
                                          for part in pair.split(":", 1))
            if (given_id, given_secret) != (client_id, client_secret):
                return self.reply(401, {"error": "invalid_client"})
            found = codes.pop(form.get("code", ""), None)
            if found is None or found[0] != form.get("redirect_uri"):
                return self.reply(400, {"error": "invalid_grant"})
            return self.reply(200, {"access_token": secrets.token_urlsafe(24),
                                    "token_type": "Bearer", "expires_in": 3600,
                                    "id_token": id_token(found[1])})

        def log_message(self, format, *args):
            # Paths only: the token endpoint's body (with the client secret) is never logged.
            sys.stderr.write("oidc: %s\n" % (format % args))

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
