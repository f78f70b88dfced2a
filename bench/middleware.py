from django.db import connection


class QueryCountMiddleware:
    """Answers every request with the number of database statements it ran, in `X-Queries`
    (savepoints and transaction statements sent as SQL included: each is a round trip)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(count)
        return response
