"""Phone page weight: bytes of the code-entry page and of the player page, each with every CSS and JS file it references.

Raw bytes (no compression assumed) and gzip -6 bytes; the bar is < 60 KB each (raw, before audio).
"""
import gzip
import re
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from common import Instance, form_csrf_token, log, write_result
from share_setup import make_listen_share

BAR_BYTES = 60 * 1000


class Assets(HTMLParser):
    """The stylesheets (<link rel=stylesheet href>) and scripts (<script src>) a page references."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and set((attrs.get("rel") or "").lower().split()) & {
                "stylesheet", "preload", "modulepreload", "icon"}:
            self.urls.append(attrs["href"])


def weigh(client, path, html):
    """{'files': [(url, raw, gzip)], 'raw': total, 'gzip': total} for a page and what it references."""
    parser = Assets()
    parser.feed(html.decode())
    files = [(path, len(html), len(gzip.compress(html, compresslevel=6)))]
    for url in dict.fromkeys(parser.urls):
        absolute = urljoin(path, url)
        if urlsplit(absolute).netloc not in ("", "localhost"):
            raise SystemExit(f"{path} references an external asset {url}; this benchmark can't weigh it")
        response = client.get(urlsplit(absolute).path)
        if response.status_code != 200:
            raise SystemExit(f"{url} (referenced by {path}) answered {response.status_code}")
        body = response.get_data()
        files.append((url, len(body), len(gzip.compress(body, compresslevel=6))))
    return {"files": files, "raw": sum(f[1] for f in files), "gzip": sum(f[2] for f in files)}


def main():
    instance = Instance()
    try:
        log(f"throwaway instance in {instance.dir}")
        instance.setup()
        app = instance.app()
        token, code = make_listen_share(app)
        client = app.test_client()
        code_path, play_path = f"/listen/{token}", f"/listen/{token}/play"
        page = client.get(code_path)
        if page.status_code != 200 or b'name="code"' not in page.data:
            raise SystemExit(f"code page answered {page.status_code}")
        code_page = weigh(client, code_path, page.data)
        entry = client.post(code_path, data={"code": code, "csrf_token": form_csrf_token(page.data)})
        if entry.status_code != 303:
            raise SystemExit(f"code entry answered {entry.status_code}")
        play = client.get(play_path)
        if play.status_code != 200:
            raise SystemExit(f"player page answered {play.status_code}")
        tracks = len(set(re.findall(rb"/tracks/[0-9a-f-]{36}/stream", play.data)))
        player_page = weigh(client, play_path, play.data)
        for name, weight in (("code page", code_page), ("player page", player_page)):
            log(f"{name}: {weight['raw']} bytes raw, {weight['gzip']} bytes gzip -6")
            for url, raw, gz in weight["files"]:
                log(f"  {url[:60]:60} {raw:7} raw {gz:7} gzip")
        met = code_page["raw"] < BAR_BYTES and player_page["raw"] < BAR_BYTES

        def kb(n):
            return f"{n / 1000:.1f} KB"

        write_result("page_weight", {
            "figure": (f"code page {kb(code_page['raw'])} raw / {kb(code_page['gzip'])} gzip; player page "
                       f"{kb(player_page['raw'])} raw / {kb(player_page['gzip'])} gzip ({tracks} tracks); "
                       "HTML + every CSS/JS it references, response bodies"),
            "met": met, "note": None,
            "code_page": code_page, "player_page": player_page, "player_tracks": tracks, "bar_bytes": BAR_BYTES,
        })
        return 0
    finally:
        instance.remove()


if __name__ == "__main__":
    sys.exit(main())
