class DomainError(Exception):
    """A business rule said no. The API answers 400 with `code`; the portal shows `detail` on the form.

    `attr` names the input field at fault, when there is one.
    """

    def __init__(self, detail, *, code, attr=None):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.attr = attr
