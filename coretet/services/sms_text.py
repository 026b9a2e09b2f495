"""SMS wording: plain GSM-7 text that always fits one 160-character segment."""
import unicodedata

SMS_LIMIT = 160
# GSM-7 basic alphabet without newlines: each of these costs one of the 160 characters.
_GSM7 = frozenset("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_LOOKALIKES = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."}
# Names and titles are cut no shorter than this while anything else can give way.
_MIN_TITLE = 12
_MIN_NAME = 8


def _gsm7_char(ch):
    """The character if GSM-7 has it, else its plain look-alike or base letter, else nothing."""
    ch = _LOOKALIKES.get(ch, ch)
    return ch if set(ch) <= _GSM7 else "".join(c for c in unicodedata.normalize("NFKD", ch) if c in _GSM7)


def gsm7(text):
    """Text reduced to the GSM-7 basic alphabet, so a message is one 160-character segment."""
    return " ".join("".join(_gsm7_char(ch) for ch in " ".join(str(text).split())).split())


def is_gsm7(text):
    return set(text) <= _GSM7


def shorten(text, limit):
    """Text cut to `limit` (at least 4) characters, ending in "..." when cut."""
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def _fit(compose, fields, floors):
    """Shorten fields in order (each down to its floor) until compose(*fields) fits one segment."""
    fields = list(fields)
    for index, floor in enumerate(floors):
        over = len(compose(*fields)) - SMS_LIMIT
        if over > 0:
            fields[index] = shorten(fields[index], max(floor, len(fields[index]) - over))
    return compose(*fields)


def _one_segment(text, fallback):
    """The text if it fits, else the bare fallback; a link too long even for that is a setup error."""
    text = text if len(text) <= SMS_LIMIT else fallback
    if len(text) > SMS_LIMIT:
        raise ValueError(f"An SMS link must leave room in {SMS_LIMIT} characters; check APP_BASE_URL")
    return text


def expiry_date(expires_at):
    """'Dec 3' (UTC), the way texts name a day."""
    return f"{expires_at:%b} {expires_at.day}"


def share_text(sharer, title, track_count, code, link, expires_at):
    """'CoreTet: Alex shared "Demos" (5 tracks). Code A7K9M2 <link> Expires Dec 3'; names shortened to fit."""
    tracks = "1 track" if track_count == 1 else f"{track_count} tracks"
    tail = f"Code {code} {link}" + (f" Expires {expiry_date(expires_at)}" if expires_at else "")

    def compose(title_text, sharer_text):
        return f'CoreTet: {sharer_text} shared "{title_text}" ({tracks}). {tail}'

    text = _fit(compose, (gsm7(title) or "a playlist", gsm7(sharer) or "Someone"), (_MIN_TITLE, _MIN_NAME))
    return _one_segment(text, f"CoreTet: {tail}")


def new_code_text(title, code, link):
    """'CoreTet: your new code for "Demos" is A7K9M2 <link>', the title shortened to fit."""
    def compose(title_text):
        return f'CoreTet: your new code for "{title_text}" is {code} {link}'

    text = _fit(compose, (gsm7(title) or "a playlist",), (_MIN_TITLE,))
    return _one_segment(text, f"CoreTet: your new code is {code} {link}")
