"""``make_grid`` is imported by the paper code's plotting module, used only with ``--pdf``."""


def make_grid(*args: object, **kwargs: object) -> None:
    raise NotImplementedError("the torchvision stand-in draws no image grids (run without --pdf)")
