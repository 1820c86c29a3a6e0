from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """E-mail, e-mail verified and the seed's extra claims (the municipality code) in the ID token
    and from userinfo. The extra claims come with the openid scope."""

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            **settings.PROVIDER_CLAIMS.get(user.get_username(), {}),
        }

    @property
    def oidc_claim_scope(self):
        extra = {name: "openid" for claims in settings.PROVIDER_CLAIMS.values() for name in claims}
        return {**OAuth2Validator.oidc_claim_scope, **extra}
