from django.http import HttpResponse

from access.decorators import requires
from access.roles import Permission


@requires(Permission.USE_PORTAL)
def watches(request):
    return HttpResponse("")
