"""Counts in sentences: "1 delivery", "3 deliveries", "the requirement question", "all 3 requirement questions"."""


def plural(count: int, singular: str, many: str = "", *, every: bool = False) -> str:
    """`count` of a thing, in words; `every` for the whole set ("the question", "all 3 questions")."""
    word = singular if count == 1 else (many or singular + "s")
    if every:
        return f"the {word}" if count == 1 else f"all {count} {word}"
    return f"{count} {word}"
