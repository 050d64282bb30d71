"""The storefront snippet: small, self-contained, and filled in safely for its store."""

from __future__ import annotations

import re

from bcsync_ops.snippet import snippet


def test_the_snippet_is_a_few_kb_with_nothing_from_elsewhere():
    script = snippet("https://abc.execute-api.us-east-1.amazonaws.com/", "abc123", "app-client")
    assert script.startswith("<script>") and script.endswith("</script>\n") and len(script) < 6 * 1024  # a few KB
    assert 'endpoint: "https://abc.execute-api.us-east-1.amazonaws.com"' in script
    assert 'store: "abc123"' in script and 'clientId: "app-client"' in script
    assert set(re.findall(r"https?://[^\"' ]+", script)) == {"https://abc.execute-api.us-east-1.amazonaws.com"}
    assert "keepalive: true" in script and '"Content-Type": "text/plain"' in script and "sendBeacon" in script
    assert "__ENDPOINT__" not in script and "import " not in script


def test_values_cannot_close_the_script_or_break_out_of_their_strings():
    script = snippet('https://x.example/</script><script>alert(1)//"', "abc123")
    assert script.count("</script>") == 1
    assert 'endpoint: "https://x.example/<\\/script><script>alert(1)//\\""' in script


def test_keeping_an_anonymous_visitors_views_is_off_unless_asked_for():
    assert "keepAnonymous: false" in snippet("https://x.example", "abc123")
    kept = snippet("https://x.example", "abc123", keep_anonymous_views=True)
    assert "keepAnonymous: true" in kept and "localStorage" in kept
