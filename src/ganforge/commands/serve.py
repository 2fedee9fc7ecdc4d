"""placeholder while being written"""


def register(sub) -> None:
    pass
