#!/usr/bin/env python3
"""The user's browser in `sky api login` with single sign-on: opens the URL the client prints,
follows the redirects through oauth2-proxy and the OIDC issuer with a cookie jar, as a browser
does, and on the API server's authorization page does what its Authorize button does (the
page's script POSTs the code challenge to /api/v1/auth/authorize with the session's cookies).

  browser.py URL

Prints the page's "Logged in as ..." line. Fails, with the reason, on any other page or answer.
"""

import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request


def main():
    url = sys.argv[1]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url, timeout=30) as response:
        final = response.geturl()
        page = response.read().decode(errors="replace")
    if urllib.parse.urlsplit(final).path != "/auth/authorize":
        raise SystemExit(f"browser: the sign-in ended on {final}, not the authorization page")
    who = re.search(r"Logged in as [^<]+", page)
    if who is None:
        raise SystemExit("browser: the authorization page does not say who is logged in")
    challenge = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(final).query))["code_challenge"]
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(final))
    request = urllib.request.Request(
        f"{origin}/api/v1/auth/authorize", method="POST",
        data=json.dumps({"code_challenge": challenge}).encode(),
        headers={"Content-Type": "application/json", "Origin": origin})
    with opener.open(request, timeout=30) as response:
        answer = json.loads(response.read())
    if answer.get("status") != "authorized":
        raise SystemExit(f"browser: the Authorize button got {answer}")
    print(who.group(0))


if __name__ == "__main__":
    main()
