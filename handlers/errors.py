"""Errors a user can act on. They carry a catalog key, never prose, so they speak every locale."""


class UserError(Exception):
    """Bad input or a forbidden action: shown to the user, nothing is changed."""

    def __init__(self, key: str, *, field: str | None = None, **params) -> None:
        super().__init__(key)
        self.key = key
        self.field = field  # the form field at fault, when there is one
        self.params = params


class NotFound(UserError):
    pass


class Forbidden(UserError):
    pass
