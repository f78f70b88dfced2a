"""The portal's forms for listings, quotes and orders: input shape only; the services decide the rest."""

from decimal import Decimal

from django import forms
from django_countries import countries
from djmoney.money import Money

from hubs.kernel.money import amount_form_field
from hubs.selectors import hubs_directory
from trade.filters import OrderFilter
from trade.models import BuyerKind, Listing, ListingStatus, Unit
from trade.services import QuoteLineRequest

EDITABLE_STATUSES = [(status.value, status.label) for status in (ListingStatus.DRAFT, ListingStatus.ACTIVE)]


def add_domain_error(form, error, attr=None):
    """Show a service's refusal on the field it names, or on the whole form when it names none of it."""
    attr = error.attr if attr is None else attr
    form.add_error(attr if attr in form.fields else None, error.detail)


def add_company_field(form, companies):
    """A choice of company, first on the form, for an actor who acts for several."""
    if len(companies) > 1:
        form.fields["company"] = forms.TypedChoiceField(
            choices=[(company.pk, company.legal_name) for company in companies],
            coerce=int,
            help_text="The company you act for.",
        )
        form.order_fields(["company"])


class ListingSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "words, an HS prefix such as 4202, or LST-…"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ListingStatus.choices])


class ListingForm(forms.ModelForm):
    """A listing's fields; its price is in the company's home currency, which the form names."""

    hs_code = forms.CharField(
        max_length=16,
        label="HS code",
        help_text="A 6-digit subheading such as 420221, or a national code of 8 to 10 digits that extends one.",
    )
    unit_price = amount_form_field(label="Unit price")
    status = forms.ChoiceField(
        choices=EDITABLE_STATUSES,
        initial=ListingStatus.DRAFT,
        help_text="A draft is not on sale; an active listing can be quoted and ordered.",
    )

    class Meta:
        model = Listing
        # The HS code and the price are the form's own fields: the service normalizes the one and takes
        # the other as Money in the company's home currency.
        fields = [name for name in Listing.EDITABLE_FIELDS if name not in ("hs_code", "unit_price")]
        labels = {
            "unit_weight_kg": "Unit weight (kg)",
            "length_cm": "Length (cm)",
            "width_cm": "Width (cm)",
            "height_cm": "Height (cm)",
            "measure_quantity": "Measure per unit",
            "measure_unit": "Unit of measure",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(Listing.EDITABLE_FIELDS)
        if self.instance.pk:
            del self.fields["stock"]  # set when listed; then changed by restock, relative to what orders leave
            self.initial.setdefault("hs_code", self.instance.hs_code)
            self.initial.setdefault("unit_price", self.instance.unit_price.amount)
            currencies = {self.instance.company.legal_name: self.instance.company.home_currency}
        else:
            add_company_field(self, companies)
            self.fields["origin_country"].initial = companies[0].country
            currencies = {company.legal_name: company.home_currency for company in companies}
        if len(set(currencies.values())) == 1:
            currency = next(iter(currencies.values()))
            self.fields["unit_price"].label = f"Unit price ({currency})"
            self.fields["unit_price"].help_text = f"In {currency}, the company's home currency."
        else:
            self.fields["unit_price"].help_text = "In the company's home currency: " + ", ".join(
                f"{currency} for {name}" for name, currency in currencies.items()
            )

    def listing_fields(self, currency):
        """The fields for `listing_create`, or the changed ones for `listing_update`, the price as Money."""
        names = [
            name
            for name in Listing.EDITABLE_FIELDS
            if name in self.fields and (not self.instance.pk or name in self.changed_data)
        ]
        fields = {name: self.cleaned_data[name] for name in names}
        if "unit_price" in fields:
            fields["unit_price"] = Money(fields["unit_price"], currency)
        return fields


class HubChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, hub):
        return f"{hub.code} — {hub.name} ({hub.currency})"


class ListingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, listing):
        return f"{listing.public_id} {listing.title} — {listing.unit_price}, {listing.stock} in stock"


class QuoteForm(forms.Form):
    origin_hub = HubChoiceField(queryset=hubs_directory(), to_field_name="code", help_text="Where the goods ship from.")
    destination_hub = HubChoiceField(
        queryset=hubs_directory(), to_field_name="code", help_text="Its rules and currency make the quote."
    )
    consumer_id = forms.CharField(
        required=False,
        max_length=40,
        label="Consumer ID number",
        help_text="Needed for China's CBEC retail import. Kept only masked and as a keyed hash.",
    )
    freight = amount_form_field(required=False, label="Freight")

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        add_company_field(self, companies)
        self.fields["origin_hub"].initial = companies[0].home_hub.code
        self.hubs = list(self.fields["destination_hub"].queryset)
        currencies = ", ".join(f"{hub.code} {hub.currency}" for hub in self.hubs)
        self.currency_note = (
            "The quote is in the destination hub's currency; a listing priced in another is converted at the "
            f"reference rate of the day ({currencies})."
        )
        self.fields["freight"].help_text = f"In the destination hub's currency ({currencies}); empty for none."

    def freight_money(self):
        amount = self.cleaned_data["freight"]
        return None if amount is None else Money(amount, self.cleaned_data["destination_hub"].currency)


class QuoteLineForm(forms.Form):
    """One line of the calculator: a listing of the company's, or ad-hoc goods for an estimate."""

    listing = ListingChoiceField(queryset=Listing.objects.none(), required=False, to_field_name="public_id")
    quantity = forms.IntegerField(min_value=1, max_value=100_000, initial=1)
    hs_code = forms.CharField(required=False, max_length=16, label="HS code")
    description = forms.CharField(required=False, max_length=200)
    unit_price = amount_form_field(required=False, label="Unit price")
    measure_quantity = forms.DecimalField(
        required=False, max_digits=10, decimal_places=3, initial=1, label="Measure per unit"
    )
    measure_unit = forms.ChoiceField(choices=Unit.choices, initial=Unit.PIECE, label="Unit of measure")

    def __init__(self, *args, listings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["listing"].queryset = listings

    def clean(self):
        data = super().clean()
        adhoc = data.get("hs_code") or data.get("unit_price") is not None
        if data.get("listing") and adhoc:
            raise forms.ValidationError(
                "A listing line takes its HS code and price from the listing: leave them empty."
            )
        if not data.get("listing") and not (data.get("hs_code") and data.get("unit_price") is not None):
            raise forms.ValidationError("Choose a listing, or give an HS code and a unit price.")
        return data

    def line_request(self, currency):
        data = self.cleaned_data
        if data["listing"]:
            return QuoteLineRequest(quantity=data["quantity"], listing=data["listing"])
        return QuoteLineRequest(
            quantity=data["quantity"],
            hs_code=data["hs_code"],
            description=data["description"],
            unit_price=Money(data["unit_price"], currency),
            measure_quantity=data["measure_quantity"] or Decimal(1),
            measure_unit=data["measure_unit"],
        )

    def add_domain_error(self, error, field):
        """A listing line shows what is wrong with its listing's figures on the listing."""
        add_domain_error(self, error, "listing" if self.cleaned_data.get("listing") else field)


QuoteLineFormSet = forms.formset_factory(QuoteLineForm, extra=2, min_num=1, validate_min=True, max_num=50)


class BuyerForm(forms.Form):
    kind = forms.ChoiceField(choices=BuyerKind.choices, initial=BuyerKind.CONSUMER, label="Buyer is a")
    name = forms.CharField(max_length=200)
    id_number = forms.CharField(
        required=False,
        max_length=40,
        label="ID number",
        help_text="A consumer's: the one the quote was made for. Kept only masked and as a keyed hash.",
    )
    registration_number = forms.CharField(required=False, max_length=64, help_text="A business buyer's registration.")
    address_line1 = forms.CharField(max_length=200, label="Address")
    city = forms.CharField(max_length=100)
    country = forms.ChoiceField(choices=countries)


class RestockForm(forms.Form):
    delta = forms.IntegerField(
        label="Units to add",
        min_value=-Listing.MAX_STOCK,
        max_value=Listing.MAX_STOCK,
        help_text="Added to the stock as it is when you save, whatever orders took meanwhile; -3 takes 3 off.",
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        help_text="Why the order is cancelled: it goes on the order's timeline, for the buyer's hubs too.",
    )


class ArchiveForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, help_text="Why, for the listing's history; optional.")


class OrderFilterForm(forms.Form):
    """The API's order filters with pickers: status boxes, hub selects, date-time fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].widget = forms.CheckboxSelectMultiple(choices=self.fields["status"].choices)
        hubs = [("", "Any hub"), *((hub.code, hub.code) for hub in hubs_directory())]
        for name in ("origin_hub", "destination_hub"):
            self.fields[name].widget = forms.Select(choices=hubs)
        for name in ("placed_after", "placed_before"):
            self.fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        self.fields["buyer"].label = "Buyer's name"


class PortalOrderFilter(OrderFilter):
    class Meta(OrderFilter.Meta):
        form = OrderFilterForm
