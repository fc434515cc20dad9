#!/usr/bin/env python3
"""A stub Quilt catalog (and AWS SSO portal) for tests: quilt3 8.0.0's sign-in protocol on 127.0.0.1 only.

    stub_catalog.py [--port N | --port 0 --port-file F] [--log requests.jsonl] [--secrets-file F]
                    [--token-ttl S] [--creds-ttl S] [--registry-url U] [--navigator-url U]
                    [--sts-endpoint URL --role-arn ARN] [--sso-token T] [--api-key K] [--lifetime S]

Endpoints (catalog and registry share one origin, so config.json says registryUrl = http://127.0.0.1:PORT):
  GET  /config.json               the catalog's config (quilt3.config(url) keeps only the keys its template knows)
  GET  /login                     a page showing the one-time code: any code starting with "stub-code" works
  POST /api/token                 form refresh_token=<code or refresh token>
                                   -> 200 {"refresh_token", "access_token", "expires_at"} (refresh tokens rotate)
                                   code "error-in-body" -> 200 {"error": "Invalid code"}; a code starting with
                                   "echo-" -> 200 {"error": "invalid code <the code>"} (upper-cased for
                                   "echo-upper-", as {"error": {"detail": …}} for "echo-object-"): a catalog that
                                   quotes the secret it was sent; anything else -> 401
  GET  /api/auth/get_credentials  "Authorization: Bearer <access token>" -> 200 {"AccessKeyId", "SecretAccessKey",
                                   "SessionToken", "Expiration"}; an unknown or expired token -> 401; with
                                   --api-key, "Bearer <that key>" works too (quilt3's login_with_api_key)
  GET  /federation/credentials    the AWS SSO portal's GetRoleCredentials: header x-amz-sso_bearer_token must be
                                   --sso-token -> 200 {"roleCredentials": {...}}; else 401 UnauthorizedException

AWS credentials are fake ("STUBAKID<n>") unless --sts-endpoint and --role-arn are given: then each request assumes
that role through STS (signed with STUB_STS_ACCESS_KEY_ID / STUB_STS_SECRET_ACCESS_KEY from the environment), so
the credentials work against an S3 that checks signatures (the auth moto of scripts/lib/moto.sh). The Expiration
reported is now + --creds-ttl either way.

Every request is appended to --log as one JSON line (time, method, path, query, headers, body, status) with every
token replaced by a label (<code>, <refresh_token#1>, <access_token#2>, <sso_token>): the log never holds a secret.
--secrets-file gets every secret handed out or accepted (tokens, secret keys, session tokens), one per line, so that
tests can check no output contains any of them.
"""

import argparse
import datetime
import itertools
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {
    'refresh': {},  # token -> n
    'access': {},  # token -> (n, expires_at)
    'counter': itertools.count(1),
    'lock': threading.Lock(),
}
ARGS = None


def remember_secret(value):
    if ARGS.secrets_file and value:
        with STATE['lock'], open(ARGS.secrets_file, 'a', encoding='utf-8') as f:
            f.write(value + '\n')


def redact(text):
    """Replace every known token in text by a label."""
    if text is None:
        return None
    out = text
    for tok, n in list(STATE['refresh'].items()):
        out = out.replace(tok, f'<refresh_token#{n}>')
    for tok, (n, _) in list(STATE['access'].items()):
        out = out.replace(tok, f'<access_token#{n}>')
    if ARGS.sso_token:
        out = out.replace(ARGS.sso_token, '<sso_token>')
    if ARGS.api_key:
        out = out.replace(ARGS.api_key, '<api_key>')
    if 'refresh_token=stub-code' in out:
        out = out.split('refresh_token=stub-code')[0] + 'refresh_token=<code>'
    elif 'refresh_token=' in out and 'refresh_token=<' not in out:
        out = out.split('refresh_token=')[0] + 'refresh_token=<unknown>'
    return out


def redact_header(name, value):
    """A header's value redacted; a bearer token the stub does not know (a wrong key) becomes <unknown>."""
    out = redact(value)
    if name.lower() == 'authorization' and out.startswith('Bearer ') and not out.startswith('Bearer <'):
        out = 'Bearer <unknown>'
    return out


def aws_credentials(n):
    """Credentials for issue number n: fake ones, or a role assumed through STS."""
    if ARGS.sts_endpoint:
        import boto3  # only in this mode, so the stub runs on a bare python3 otherwise

        sts = boto3.client(
            'sts',
            endpoint_url=ARGS.sts_endpoint,
            region_name='us-east-1',
            aws_access_key_id=os.environ['STUB_STS_ACCESS_KEY_ID'],
            aws_secret_access_key=os.environ['STUB_STS_SECRET_ACCESS_KEY'],
        )
        c = sts.assume_role(RoleArn=ARGS.role_arn, RoleSessionName=f'stub-catalog-{n}')['Credentials']
        access, secret, token = c['AccessKeyId'], c['SecretAccessKey'], c['SessionToken']
    else:
        suffix = secrets.token_hex(8)
        access, secret, token = f'STUBAKID{n}', f'stub-secret-{n}-{suffix}', f'stub-session-{n}-{suffix}'
    remember_secret(secret)
    remember_secret(token)
    expires = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(
        seconds=ARGS.creds_ttl
    )
    return access, secret, token, expires


class Handler(BaseHTTPRequestHandler):
    server_version = 'StubCatalog/1.0'
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):  # we log ourselves, redacted
        pass

    def _log(self, body_text, status):
        parsed = urllib.parse.urlsplit(self.path)
        entry = {
            'time': time.time(),
            'method': self.command,
            'path': parsed.path,
            'query': parsed.query,
            'headers': [[k, redact_header(k, v)] for k, v in self.headers.items()],
            'body': redact(body_text),
            'status': status,
        }
        line = json.dumps(entry)
        if ARGS.log:
            with STATE['lock'], open(ARGS.log, 'a', encoding='utf-8') as f:
                f.write(line + '\n')

    def _send(self, status, obj=None, content_type='application/json', raw=None):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _origin(self):
        return f'http://127.0.0.1:{self.server.server_address[1]}'

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path == '/config.json':
            cfg = {
                'alwaysRequiresAuth': True,
                'analyticsBucket': 'stub-analytics',
                'apiGatewayEndpoint': self._origin() + '/api-gw',
                'binaryApiGatewayEndpoint': self._origin() + '/bin-api-gw',
                'mode': 'PRODUCT',
                'noDownload': False,
                'passwordAuth': 'ENABLED',
                'registryUrl': ARGS.registry_url or self._origin(),
                's3Proxy': self._origin() + '/__s3proxy',
                'region': 'us-east-2',
                'serviceBucket': 'stub-service-bucket',
                'ssoAuth': 'DISABLED',
                'ssoProviders': '',
                'stackVersion': '1.0.0-stub',
            }
            if ARGS.navigator_url:
                cfg['navigator_url'] = ARGS.navigator_url
            self._log(None, 200)
            return self._send(200, cfg)
        if parsed.path == '/login':
            self._log(None, 200)
            return self._send(200, raw=b'<html><body>Your code: stub-code</body></html>', content_type='text/html')
        if parsed.path == '/api/auth/get_credentials':
            auth = self.headers.get('Authorization', '')
            tok = auth[len('Bearer '):] if auth.startswith('Bearer ') else None
            info = STATE['access'].get(tok)
            if info is None and ARGS.api_key and tok == ARGS.api_key:
                with STATE['lock']:
                    info = (next(STATE['counter']), float('inf'))
            if info is None or info[1] < time.time():
                self._log(None, 401)
                return self._send(401, {'message': 'Unauthorized'})
            access, secret, token, expires = aws_credentials(info[0])
            self._log(None, 200)
            return self._send(
                200,
                {'AccessKeyId': access, 'SecretAccessKey': secret, 'SessionToken': token,
                 'Expiration': expires.isoformat()},
            )
        if parsed.path == '/federation/credentials':
            given = self.headers.get('x-amz-sso_bearer_token')
            query = urllib.parse.parse_qs(parsed.query)
            if not ARGS.sso_token or given != ARGS.sso_token:
                self._log(None, 401)
                return self._send(401, {'message': 'Session token not found or invalid'},
                                  raw=json.dumps({'message': 'Session token not found or invalid'}).encode())
            if not query.get('account_id') or not query.get('role_name'):
                self._log(None, 400)
                return self._send(400, {'message': 'account_id and role_name are required'})
            with STATE['lock']:
                n = next(STATE['counter'])
            access, secret, token, expires = aws_credentials(n)
            self._log(None, 200)
            return self._send(200, {'roleCredentials': {
                'accessKeyId': access, 'secretAccessKey': secret, 'sessionToken': token,
                'expiration': int(expires.timestamp() * 1000)}})
        self._log(None, 404)
        return self._send(404, {'message': 'Not found'})

    def do_POST(self):
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length).decode('utf-8', 'replace')
        if parsed.path == '/api/token':
            form = urllib.parse.parse_qs(body)
            given = (form.get('refresh_token') or [''])[0]
            if given == 'error-in-body':
                self._log(body, 200)
                return self._send(200, {'error': 'Invalid code'})
            if given.startswith('echo-'):
                remember_secret(given)
                self._log(body, 200)
                said = 'invalid code ' + (given.upper() if given.startswith('echo-upper-') else given)
                return self._send(200, {'error': {'detail': said} if given.startswith('echo-object-') else said})
            ok = given.startswith('stub-code') or given in STATE['refresh']
            if not ok:
                self._log(body, 401)
                return self._send(401, {'message': 'Invalid token'})
            self._log(body, 200)  # logged before the new tokens exist, so the old ones get labels
            with STATE['lock']:
                n = next(STATE['counter'])
                STATE['refresh'].pop(given, None)
                suffix = secrets.token_hex(8)
                refresh = f'stub-refresh-{n}-{suffix}'
                access = f'stub-access-{n}-{suffix}'
                expires_at = int(time.time()) + ARGS.token_ttl
                STATE['refresh'][refresh] = n
                STATE['access'][access] = (n, expires_at)
            remember_secret(given)
            remember_secret(refresh)
            remember_secret(access)
            return self._send(200, {'refresh_token': refresh, 'access_token': access, 'expires_at': expires_at})
        self._log(body, 404)
        return self._send(404, {'message': 'Not found'})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, default=8765, help='0: any free port (see --port-file)')
    p.add_argument('--port-file', help='write the port here once listening')
    p.add_argument('--log')
    p.add_argument('--secrets-file')
    p.add_argument('--token-ttl', type=int, default=3600, help='access token lifetime (expires_at = now + this)')
    p.add_argument('--creds-ttl', type=int, default=3600, help='AWS credentials lifetime (Expiration = now + this)')
    p.add_argument('--registry-url', help='registryUrl to advertise (default: this server)')
    p.add_argument('--navigator-url', help='also put navigator_url into config.json')
    p.add_argument('--sts-endpoint', help='issue real temporary credentials: STS AssumeRole at this endpoint')
    p.add_argument('--role-arn', help='the role to assume (with --sts-endpoint)')
    p.add_argument('--sso-token', help='the access token the SSO portal accepts')
    p.add_argument('--api-key', help='an API key (qk_...) the credentials endpoint accepts as its bearer token')
    p.add_argument('--lifetime', type=float, default=600, help='exit after this many seconds')
    ARGS = p.parse_args()
    if ARGS.api_key:
        remember_secret(ARGS.api_key)
    srv = ThreadingHTTPServer(('127.0.0.1', ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.port_file:
        with open(ARGS.port_file + '.tmp', 'w') as f:
            f.write(str(srv.server_address[1]))
        os.replace(ARGS.port_file + '.tmp', ARGS.port_file)
    timer = threading.Timer(ARGS.lifetime, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever()


if __name__ == '__main__':
    main()
