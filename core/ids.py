"""Short ids people can type: a letter for the kind, then random Crockford base32."""

import secrets

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str, length: int = 7) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def normalise(text: str) -> str:
    """Ids as people type them: any case, O for 0 and I or L for 1 after the prefix."""
    cleaned = text.strip().upper()
    if len(cleaned) < 2:
        return cleaned
    body = cleaned[1:].replace("O", "0").replace("I", "1").replace("L", "1")
    return cleaned[0] + body
