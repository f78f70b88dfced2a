from django import forms


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
