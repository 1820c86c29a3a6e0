"""Every answer under /api/v1 is problem+json when it is an error, even the 405 that
django-ninja gives itself for a method no operation takes (before any handler of ours runs)."""

from api.problems import MEDIA_TYPE, method_not_allowed, problem_response

API_PREFIX = "/api/v1/"


class MethodNotAllowedProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith(MEDIA_TYPE)
        ):
            problem = problem_response(
                request, method_not_allowed(request.method, response.get("Allow", ""))
            )
            if response.has_header("Allow"):
                problem["Allow"] = response["Allow"]
            return problem
        return response
