"""SQL statements per page for 10 and for 500 tracks (workspace, playlist, recipient pages); the bar is equal counts."""
import re
import sys
import time
import urllib.parse

from common import MIB, Instance, form_csrf_token, log, write_result

SIZES = (10, 500)
PLAYLIST_RULE = "/w/<ws>/playlists/<playlist_id>"


def populate(app, size):
    """A band-tier user with `size` personal songs (half with a v2), one playlist holding all of them, and one band."""
    from coretet.extensions import db
    from coretet.models import Band, BandMember, Playlist, PlaylistTrack, Profile, Track
    from coretet.services import accounts

    email, password = f"bench{size}@example.com", "bench-password-2026"
    with app.app_context():
        profile = Profile(email=email, name=f"Bench {size}", password_hash=accounts.hash_password(password),
                          tier="band", storage_limit=100 * 1024 * MIB)
        db.session.add(profile)
        db.session.flush()
        # A band membership, so the header's switcher and each row's "move to" menu have something to list.
        band = Band(name=f"Bench band {size}", created_by=profile.id)
        db.session.add(band)
        db.session.flush()
        db.session.add(BandMember(band_id=band.id, profile_id=profile.id, role="owner"))
        tracks = [Track(title=f"Bench track {i:03d}", storage_key=f"bench/{size}/{i}", file_size=MIB,
                        duration_seconds=180.0, content_type="audio/mpeg", created_by=profile.id)
                  for i in range(size)]
        db.session.add_all(tracks)
        # Every other song has a second version, so the pages resolve "latest version" as they do in use.
        db.session.add_all(Track(title=track.title, storage_key=f"bench/{size}/{i}/v2", file_size=MIB,
                                 duration_seconds=181.0, content_type="audio/mpeg", created_by=profile.id,
                                 lineage_id=track.lineage_id, version_number=2)
                           for i, track in enumerate(tracks) if i % 2)
        playlist = Playlist(title=f"Bench playlist {size}", description="All of them", created_by=profile.id)
        db.session.add(playlist)
        db.session.flush()
        db.session.add_all(PlaylistTrack(playlist_id=playlist.id, track_id=track.id, position=position,
                                         added_by=profile.id) for position, track in enumerate(tracks))
        token = _share(app, profile, playlist)
        db.session.commit()
        return email, password, str(playlist.id), token


CODE = "A7K9M2"


def _share(app, profile, playlist):
    """A share of the playlist with one grant whose code is CODE, for the recipient page."""
    import uuid

    from coretet.extensions import db
    from coretet.models import AccessGrant, SharedPlaylist
    from coretet.services import codes
    from coretet.services.keys import keys_from_config
    from coretet.services.phone import blind_index, encrypt_phone

    keys = keys_from_config(app.config)
    share = SharedPlaylist(playlist_id=playlist.id, shared_by=profile.id, share_token=codes.generate_token(),
                           total_access_grants=1)
    db.session.add(share)
    db.session.flush()
    grant_id = uuid.uuid4()
    db.session.add(AccessGrant(id=grant_id, shared_playlist_id=share.id,
                               phone_blind_index=blind_index("+12015550150", keys.phone_hmac),
                               phone_encrypted=encrypt_phone("+12015550150", keys.phone_encryption),
                               code_hash=codes.hash_code(CODE, keys.code_hmac, context=grant_id)))
    return share.share_token


def open_share(app, token):
    """A phone's client that has entered the code, so the player page answers."""
    client = app.test_client()
    page = client.get(f"/listen/{token}").data
    response = client.post(f"/listen/{token}", data={"code": CODE, "csrf_token": form_csrf_token(page)})
    if response.status_code != 303:
        raise SystemExit(f"code entry answered {response.status_code}")
    return client


def sign_in(client, email, password):
    page = client.get("/login").data
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": form_csrf_token(page)})
    if response.status_code != 302:
        raise SystemExit(f"sign-in as {email} answered {response.status_code}")


def measure(client, statements, path, expected_rows):
    """Statements run by the second GET of a page (the first warms caches), its status and time."""
    client.get(path)
    statements.clear()
    started = time.perf_counter()
    response = client.get(path)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    rows = len(set(re.findall(rb"Bench track \d{3}", response.data)))
    if rows != expected_rows:
        raise SystemExit(f"GET {path} showed {rows} of the {expected_rows} tracks; the count would mean nothing")
    return {"queries": len(statements), "ms": round(elapsed_ms, 1),
            "statements": [" ".join(statement.split())[:160] for statement in statements]}


def main():
    instance = Instance()
    try:
        log(f"throwaway instance in {instance.dir}")
        instance.flask("db", "upgrade")
        app = instance.app()  # only now: the app reads its settings from the environment when imported
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        statements = []
        event.listen(Engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: statements.append(statement))
        has_playlist_page = any(rule.rule == PLAYLIST_RULE for rule in app.url_map.iter_rules())
        if not has_playlist_page:
            log(f"the playlist page ({PLAYLIST_RULE}) is missing: measuring the workspace page only")

        pages = {"workspace": {}, "playlist": {}, "recipient": {}}
        for size in SIZES:
            email, password, playlist_id, token = populate(app, size)
            client = app.test_client()
            sign_in(client, email, password)
            pages["workspace"][size] = measure(client, statements, "/w/me", size)
            if has_playlist_page:
                path = f"/w/me/playlists/{urllib.parse.quote(playlist_id)}"
                pages["playlist"][size] = measure(client, statements, path, size)
            pages["recipient"][size] = measure(open_share(app, token), statements, f"/listen/{token}/play", size)
    finally:
        instance.remove()

    measured = {name: counts for name, counts in pages.items() if counts}
    for name, counts in measured.items():
        small, large = (counts[size] for size in SIZES)
        log(f"{name} page: {small['queries']} queries with {SIZES[0]} tracks ({small['ms']} ms), "
            f"{large['queries']} with {SIZES[1]} tracks ({large['ms']} ms)")
    equal = {name: counts[SIZES[0]]["queries"] == counts[SIZES[1]]["queries"] for name, counts in measured.items()}
    met = all(equal.values()) and has_playlist_page
    figure = "; ".join(
        f"{name} {counts[SIZES[0]]['queries']} / {counts[SIZES[1]]['queries']}" for name, counts in measured.items()
    ) + f" queries at {SIZES[0]} / {SIZES[1]} tracks"
    notes = [f"the {name} page runs more queries with more tracks (N+1)" for name, ok in equal.items() if not ok]
    if not has_playlist_page:
        notes.append("the playlist page does not exist yet")
    log(f"equal counts: {equal} -> {'met' if met else 'NOT met'}")
    write_result("queries_per_page", {
        "bar": "playlist, workspace and recipient pages run the same number of SQL queries for 10 and 500 tracks",
        "command": ".venv/bin/python bench/queries_per_page.py",
        "figure": figure,
        "met": met,
        "note": "; ".join(notes),
        "pages": {name: {str(size): data for size, data in counts.items()} for name, counts in pages.items()},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
