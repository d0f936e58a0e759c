"""``Visdom`` is imported by the paper code's logging module, used only with ``--visdom``."""


class Visdom:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("the visdom stand-in logs nothing (run without --visdom)")
