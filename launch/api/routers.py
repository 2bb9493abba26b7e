from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes answer with and without a trailing slash, as the upstream API does."""

    def __init__(self) -> None:
        super().__init__()
        # SimpleRouter turns any truthy `trailing_slash` argument into "/"; set the regex after.
        self.trailing_slash = "/?"
