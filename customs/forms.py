from django import forms

from customs.models import Lane, Taxpayer
from customs.services import DECISIONS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern): each is checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        return [single(item, initial) for item in data] if isinstance(data, (list, tuple)) else [single(data, initial)]


class AnswerForm(forms.Form):
    files = MultipleFileField(label="Documents", help_text="PDF, PNG or JPEG files.")
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(name, name.capitalize()) for name in DECISIONS])
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    documents = forms.CharField(
        required=False, max_length=500, label="Documents wanted", help_text="For a hold: what the seller must send."
    )


class RerouteForm(forms.Form):
    lane = forms.ChoiceField(choices=Lane.choices)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text="The seller reads it.")


class RefundFilingForm(forms.Form):
    taxpayer = forms.ChoiceField(choices=Taxpayer.choices, initial=Taxpayer.TRADING)
    uncredited_input_vat = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, help_text="A manufacturer's, at the period's end."
    )
