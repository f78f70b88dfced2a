from django import forms

from hubs.models import Role


def add_domain_error(form, error):
    """Show a service's refusal on the field it names, or on the whole form when it names none of it."""
    form.add_error(error.attr if error.attr in form.fields else None, error.detail)


class ApiKeyIssueForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=None, label="Integrator", empty_label=None)
    name = forms.CharField(max_length=50, help_text="Where the key is used, such as “Shop ERP production”.")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        help_text="Leave empty for a key that lasts until revoked.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = memberships


class HSSearchForm(forms.Form):
    q = forms.CharField(
        required=False, label="HS code or words", widget=forms.TextInput(attrs={"placeholder": "3304 or lipstick"})
    )


class CompanyForm(forms.Form):
    """A form that writes for one of the actor's companies: a choice of it, first, when there are several."""

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.companies = {company.pk: company for company in companies}
        if len(self.companies) > 1:
            self.fields["company"] = forms.TypedChoiceField(
                choices=[(company.pk, company.legal_name) for company in companies], coerce=int
            )
            self.order_fields(["company"])

    @property
    def company(self):
        """The company chosen, or the only one."""
        if len(self.companies) == 1:
            return next(iter(self.companies.values()))
        return self.companies[self.cleaned_data["company"]]


class MemberInviteForm(CompanyForm):
    username = forms.CharField(max_length=150, help_text="What your colleague logs in with, such as “li.wei”.")
    email = forms.EmailField(required=False, help_text="Where the link to choose a password is sent; optional.")
    role = forms.ChoiceField(
        choices=[(Role.SELLER_STAFF, "Seller staff"), (Role.SELLER_ADMIN, "Seller admin")],
        initial=Role.SELLER_STAFF,
        help_text="Staff list goods, quote and order; an admin also invites colleagues and issues API keys.",
    )


class IntegratorCreateForm(CompanyForm):
    username = forms.CharField(
        max_length=150,
        label="Integrator name",
        help_text="The system that will call the API, such as “shop-erp”. It never logs in: it uses API keys.",
    )


class WebhookEndpointForm(CompanyForm):
    url = forms.CharField(
        max_length=500,
        label="Address",
        help_text="Where your partner receives events, such as https://erp.example.com/ehub/events.",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    description = forms.CharField(max_length=100, required=False, help_text="Whose it is, for you; optional.")
    event_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        help_text="Leave all unticked to send every event.",
    )

    def __init__(self, *args, event_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = [(name, name) for name in event_types]


class RevokeForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, help_text="Why, for the key's history; optional.")


class DeactivateForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, help_text="Why, for the endpoint's history; optional.")


class RotateSecretForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, help_text="Why, for the endpoint's history; optional.")
    leaked = forms.BooleanField(
        required=False,
        label="The current secret leaked",
        help_text="It stops signing at once, with no grace period: your partner refuses events until it has the new "
        "secret (they are retried meanwhile).",
    )
